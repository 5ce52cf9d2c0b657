using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using MassTransit;

namespace Sync.Architecture.Tests;

/// <summary>
/// deploy/kubernetes (issue 19, item 4): no cluster runs here, so scripts/k8s-validate.sh renders the
/// kustomizations and validates every object against the Kubernetes and KEDA schemas offline; and
/// KEDA scales each stage on the queue that stage really consumes.
/// </summary>
public sealed class KubernetesManifestsTests
{
    /// <summary>Each stage's Deployment and the consumer whose endpoint is the stage queue.</summary>
    private static readonly (string Service, string Consumer)[] Stages =
    [
        ("Extractor", "Sync.Extractor.ExtractBatchesConsumer"),
        ("Transformer", "Sync.Transformer.TransformBatchConsumer"),
        ("Loader", "Sync.Loader.LoadBatchConsumer"),
    ];

    [Fact]
    public async Task The_manifests_render_and_validate_and_KEDA_scales_each_stage_on_the_queue_its_service_consumes()
    {
        var (code, output, error) = await ValidateAsync();

        Assert.True(code == 0, $"scripts/k8s-validate.sh exited {code}:\n{output}\n{error}");
        var scaled = output.Split('\n')
            .Select(line => line.Split(' '))
            .Where(fields => fields is ["keda-queue", _, _])
            .Select(fields => (Deployment: fields[1], Queue: fields[2]))
            .Distinct()
            .Order()
            .ToArray();
        var expected = Stages
            .Select(stage => (Deployment: "sync-" + stage.Service.ToLowerInvariant(), Queue: EndpointName(stage.Service, stage.Consumer)))
            .Order()
            .ToArray();
        Assert.Equal(expected, scaled);
        // And the queue is one the service's broker user reads (deploy/rabbitmq/permissions.tsv).
        foreach (var (service, consumer) in Stages)
        {
            var queue = EndpointName(service, consumer);
            Assert.Matches(new Regex(BrokerPermissions.ByService[service.ToLowerInvariant()].Read), queue);
        }
    }

    [Fact]
    public async Task A_deployment_with_a_field_of_the_wrong_type_is_refused()
    {
        var overlay = Directory.CreateTempSubdirectory("sync-k8s-broken").FullName;
        try
        {
            // Kustomize takes no absolute path of a base; and what v2.0.3 reads as well as v5.
            var baseDirectory = Path.GetRelativePath(overlay, Path.Combine(TestInfrastructure.RepositoryRoot, "deploy", "kubernetes", "base"));
            await File.WriteAllTextAsync(Path.Combine(overlay, "kustomization.yaml"), $"""
                bases:
                  - {baseDirectory}
                patchesJson6902:
                  - path: port.yaml
                    target:
                      group: apps
                      version: v1
                      kind: Deployment
                      name: sync-loader
                """);
            await File.WriteAllTextAsync(Path.Combine(overlay, "port.yaml"), """
                - op: replace
                  path: /spec/template/spec/containers/0/ports/0/containerPort
                  value: "8081"
                """);

            var (code, output, error) = await ValidateAsync(overlay);

            Assert.True(code == 1, $"scripts/k8s-validate.sh exited {code}:\n{output}\n{error}");
            Assert.Contains("Deployment/sync-loader: data/spec/template/spec/containers/0/ports/0/containerPort must be integer", error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(overlay, recursive: true);
        }
    }

    /// <summary>
    /// A fresh Debian 12 (CI) offers only kubernetes-client 1.20, whose `kubectl kustomize` is kustomize
    /// v2.0.3: it refuses the fields of later versions (labels:, patches:, replacements:, …) and
    /// reads a directory only from bases:. A kubectl v5 reads these as well, so this keeps a change
    /// made and checked with v5 from breaking CI.
    /// </summary>
    [Fact]
    public void The_kustomizations_use_only_what_kustomize_v2_reads()
    {
        string[] known =
        [
            "apiVersion", "kind", "resources", "bases", "namespace", "namePrefix", "nameSuffix", "commonLabels",
            "commonAnnotations", "configMapGenerator", "secretGenerator", "generatorOptions", "images",
            "patchesStrategicMerge", "patchesJson6902", "vars", "crds", "configurations",
        ];
        var kustomizations = Directory.GetFiles(Path.Combine(TestInfrastructure.RepositoryRoot, "deploy", "kubernetes"), "kustomization.yaml", SearchOption.AllDirectories);
        Assert.NotEmpty(kustomizations);
        foreach (var kustomization in kustomizations)
        {
            var lines = File.ReadAllLines(kustomization);
            var fields = lines.Select(line => Regex.Match(line, "^([A-Za-z0-9]+):")).Where(m => m.Success).Select(m => m.Groups[1].Value);
            Assert.Empty(fields.Except(known).Select(field => $"{kustomization}: {field}"));
            // The entries of resources: up to the next top-level field.
            var resources = lines.SkipWhile(line => line != "resources:").Skip(1).TakeWhile(line => !Regex.IsMatch(line, "^[A-Za-z]"));
            foreach (var entry in resources.Select(line => Regex.Match(line, @"^\s*-\s*(\S+)")).Where(m => m.Success).Select(m => m.Groups[1].Value))
            {
                Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(kustomization)!, entry)), $"{kustomization}: resources: {entry} is no file (kustomize v2 takes a directory from bases: only)");
            }
        }
    }

    /// <summary>The demo overlay carries its own copy of the demo job (kustomize v2 reads no file outside it).</summary>
    [Fact]
    public void The_demo_overlay_runs_the_demo_job_of_jobs_orders_yml()
    {
        var original = File.ReadAllText(Path.Combine(TestInfrastructure.RepositoryRoot, "jobs", "orders.yml"));
        var copy = File.ReadAllText(Path.Combine(TestInfrastructure.RepositoryRoot, "deploy", "kubernetes", "demo", "orders.yml"));
        Assert.True(original == copy, "deploy/kubernetes/demo/orders.yml differs from jobs/orders.yml: copy it there");
    }

    /// <summary>The queue MassTransit names the consumer's endpoint (Sync's buses use kebab-case).</summary>
    private static string EndpointName(string service, string consumer)
    {
        var type = Assembly.Load("Sync." + service).GetType(consumer, throwOnError: true)!;
        var method = typeof(IEndpointNameFormatter).GetMethod(nameof(IEndpointNameFormatter.Consumer))!.MakeGenericMethod(type);
        return (string)method.Invoke(KebabCaseEndpointNameFormatter.Instance, null)!;
    }

    private static async Task<(int Code, string Output, string Error)> ValidateAsync(params string[] directories)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(TestInfrastructure.RepositoryRoot, "scripts", "k8s-validate.sh"));
        foreach (var directory in directories)
        {
            start.ArgumentList.Add(directory);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }
}
