using System.Text.Json;
using MassTransit.Serialization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Jobs;
using Sync.Messaging.Signing;

namespace Sync.Messaging.Tests;

/// <summary>
/// The signature on the job a stage message carries (issue 20, item 3): it holds after the message
/// went through MassTransit's JSON, and fails for a changed job, another key, or none at all.
/// </summary>
public sealed class JobSignerTests
{
    private const string Key = "job-signer-tests-key-0123456789abcdef";
    private readonly JobSigner _signer = new(Key);

    [Fact]
    public void A_signed_job_holds_after_a_round_trip_through_the_MassTransit_serializer()
    {
        var message = new ExtractBatches(Guid.NewGuid(), "everything", EveryField(), After: null, Fence: 7, ProgressInterval: TimeSpan.FromSeconds(30));
        var signature = _signer.Sign(message);

        var received = RoundTrip(message);

        Assert.NotNull(signature);
        Assert.Null(_signer.Refusal(received, signature));
    }

    [Fact]
    public void Run_headers_hold_only_as_signed_and_with_this_key()
    {
        var run = new RunHeaders(Guid.NewGuid(), "streams", 3, "streams.public.orders");
        var signed = run with { Signature = _signer.SignRun(run) };

        Assert.True(_signer.IsSignedRun(signed));
        Assert.False(_signer.IsSignedRun(run));
        Assert.False(_signer.IsSignedRun(signed with { RunId = Guid.NewGuid() }));
        Assert.False(_signer.IsSignedRun(signed with { BatchSeq = 4 }));
        Assert.False(new JobSigner("another-key-0123456789abcdef0123456789").IsSignedRun(signed));
        Assert.True(new JobSigner("another-key-0123456789abcdef0123456789", acceptedKey: Key).IsSignedRun(signed));
    }

    [Fact]
    public void Every_job_file_of_the_repository_holds_its_signature_after_a_round_trip()
    {
        var files = Directory.GetFiles(Path.Combine(TestInfrastructure.RepositoryRoot, "jobs"), "*.yml", SearchOption.AllDirectories);
        var jobs = files.Select(f => JobFile.Parse(File.ReadAllText(f), Path.GetFileName(f))).Where(r => r.IsValid).Select(r => r.Job!).ToList();
        Assert.NotEmpty(jobs);
        foreach (var job in jobs)
        {
            var message = new LoadBatch(Guid.NewGuid(), job.Name, Guid.NewGuid(), 1, job, new RecordBatch([], 0, []), 0);
            Assert.Null(_signer.Refusal(RoundTrip(message), _signer.Sign(message)));
        }
    }

    [Theory]
    [InlineData("source.query")]
    [InlineData("source.connection")]
    [InlineData("destination.table")]
    [InlineData("destination.connection")]
    [InlineData("transform.filter")]
    public void A_job_changed_in_one_field_is_refused(string field)
    {
        var job = EveryField();
        var signature = _signer.Sign(new ExtractBatches(Guid.NewGuid(), job.Name, job, null));
        var forged = field switch
        {
            "source.query" => job with { Source = job.Source with { Query = "SELECT * FROM pg_authid" } },
            "source.connection" => job with { Source = job.Source with { Connection = "billing" } },
            "destination.table" => job with { Destination = job.Destination with { Table = "users" } },
            "destination.connection" => job with { Destination = job.Destination with { Connection = "billing" } },
            _ => job with { Transform = job.Transform with { Filter = "true" } },
        };

        var refusal = _signer.Refusal(RoundTrip(new ExtractBatches(Guid.NewGuid(), job.Name, forged, null)), signature);

        Assert.Contains("does not match", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void A_job_signed_with_another_key_is_refused()
    {
        var message = new SweepDeletes(Guid.NewGuid(), "everything", EveryField(), 3);
        var forger = new JobSigner("not-the-installation-key-0123456789abcdef");

        Assert.Contains("does not match", _signer.Refusal(message, forger.Sign(message)), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unsigned_or_garbled_job_is_refused_and_a_message_without_a_job_needs_no_signature()
    {
        var message = new VerifyJob(Guid.NewGuid(), "everything", EveryField(), null);

        Assert.Contains("unsigned", _signer.Refusal(message, null), StringComparison.Ordinal);
        Assert.Contains("not a signature", _signer.Refusal(message, "bm90IGEgbWFj"), StringComparison.Ordinal);
        Assert.Contains("carries no job", _signer.Refusal(message with { Job = null! }, _signer.Sign(message)), StringComparison.Ordinal);
        Assert.Null(_signer.Refusal(new StartSyncRun(Guid.NewGuid(), "everything", "api", DateTimeOffset.UtcNow), null));
    }

    [Fact]
    public void A_drop_of_a_cdc_slot_is_signed_whole()
    {
        var drop = new DropCdcSlot("everything", "source", "sync_everything", "sync_everything", EndReader: true);
        var signature = _signer.Sign(drop);

        Assert.Null(_signer.Refusal(RoundTrip(drop), signature));
        Assert.Contains("does not match", _signer.Refusal(drop with { Connection = "billing" }, signature), StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_change_in_three_restarts_refuses_nothing_in_flight_and_the_old_key_nothing_after()
    {
        const string NewKey = "the-new-installation-key-0123456789abcdef";
        var message = new ExtractBatches(Guid.NewGuid(), "everything", EveryField(), null);
        var before = new JobSigner(Key);
        var accepting = new JobSigner(Key, acceptedKey: NewKey);
        var switched = new JobSigner(NewKey, acceptedKey: Key);
        var after = new JobSigner(NewKey);

        // 1: every service accepts the new key, still signing with the old one.
        Assert.Null(accepting.Refusal(message, before.Sign(message)));
        // 2: services switch one by one; the others still accept what they sign, and the other way round.
        Assert.Null(accepting.Refusal(message, switched.Sign(message)));
        Assert.Null(switched.Refusal(message, accepting.Sign(message)));
        // 3: the old key is dropped, and what it signs is refused.
        Assert.Null(after.Refusal(message, switched.Sign(message)));
        Assert.NotNull(after.Refusal(message, before.Sign(message)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("too-short")]
    public async Task A_service_without_a_usable_key_does_not_start_and_names_the_setting(string? key)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(TestBus.Settings("unused")) { ["Messaging:JobSigningKey"] = key });
        builder.AddSyncBus(_ => { });
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Messaging:JobSigningKey", error.Message, StringComparison.Ordinal);
    }

    private static T RoundTrip<T>(T message)
        where T : class =>
        JsonSerializer.Deserialize<T>(JsonSerializer.SerializeToUtf8Bytes(message, SystemTextJsonMessageSerializer.Options), SystemTextJsonMessageSerializer.Options)!;

    /// <summary>A job with every optional part set, so each travels and is signed.</summary>
    private static JobSpec EveryField() => new(
        "everything",
        new SourceSpec(
            SourceKind.Postgres, "source", "", "updated_at", ["id", "line"], TimeSpan.FromMinutes(5),
            new HttpSourceSpec("/orders", "data.items", [new SourceField("id", "id", "bigint")], "since", new HttpPagination("cursor", "after", "meta.next")),
            new FilesSourceSpec("*.csv", "csv", [new SourceField("name", "Name", "text")], Prefix: "in/"),
            Query: "SELECT id, line, updated_at, 'é ∑ \"q\"' AS note FROM orders",
            DependsOn: [new SourceDependency("lines", FactKey: ["order_id", "line"]), new SourceDependency("customers", FactKeysQuery: "SELECT id FROM orders WHERE customer = ANY(@id)")]),
        new TransformSpec(
            [new ColumnMapping("id", "id"), new ColumnMapping("total", "total", Cast: "numeric"), new ColumnMapping("label", "", Expression: "upper(note)")],
            Filter: "total > 0.5",
            Lookups: [new LookupSpec("region", "source", "regions", "region_id", "id", "name")],
            Code: "Sync.Examples.Transforms.Rounding"),
        new DestinationSpec(
            DestinationKind.Postgres, "destination", "orders_copy", ["id", "line"], ConflictStrategy.SourceWins, DeleteMode.SoftDelete,
            SoftDeleteColumn: "deleted_at", AllowEmpty: true, S3: new S3DestinationSpec("exports/", "parquet"), Truncate: TruncateMode.Ignore),
        BatchSize: 1000,
        Schedule: "*/5 * * * *",
        Mode: SyncMode.Cdc,
        Retry: new RetrySpec([TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(1500), TimeSpan.FromHours(2)]),
        Verify: new VerifySpec(true, "0 3 * * *", ["loaded_at"]),
        BatchBytes: 1 << 20);
}
