using System.Net.Http.Json;
using System.Text.Json;
using Parquet;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

public sealed partial class OperationsApiTests
{
    [Fact]
    public async Task A_run_into_an_s3_destination_writes_one_parquet_object_per_batch_and_a_manifest_of_every_row_that_verify_checks()
    {
        await OrdersTable.SeedAsync(Deployment.Source, S3Export.Table, 1, 250);

        using var start = Keyed(HttpMethod.Post, $"/api/jobs/{S3Export.Job}/runs");
        using var started = await Deployment.Http.SendAsync(start);
        started.EnsureSuccessStatusCode();
        var run = await Deployment.WaitForRunAsync((await started.Content.ReadFromJsonAsync<RunStartedResult>())!.RunId);

        Assert.Equal(("Completed", 3, 250L), (run.State, run.ExpectedBatches, run.Processed));
        using var client = S3Export.Client();
        var bucket = S3Export.Bucket(Deployment);
        var manifestKey = $"{S3Export.Prefix}{S3Export.Job}/run={run.RunId:D}/manifest.json";
        // The manifest follows the run's completion (the Loader writes it on the Coordinator's WriteRunManifest).
        // s3rver (unlike S3) writes an object in place, so a GET during the PUT can see it empty or cut
        // short: a manifest that does not parse yet is read again, until the deadline.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        JsonDocument? manifest;
        while ((manifest = ParseComplete(await S3Export.GetAsync(client, bucket, manifestKey))) is null)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no complete {manifestKey} within 60 s after the run completed\n{Deployment.Logs()}");
            await Task.Delay(200);
        }

        using var document = manifest;
        Assert.Equal(250, document.RootElement.GetProperty("rows").GetInt64());
        var ids = new List<long>();
        var objects = document.RootElement.GetProperty("objects").EnumerateArray().ToList();
        Assert.Equal(3, objects.Count);
        foreach (var entry in objects)
        {
            var body = await S3Export.GetAsync(client, bucket, entry.GetProperty("key").GetString()!);
            using var stream = new MemoryStream(body!);
            await using var reader = await ParquetReader.CreateAsync(stream);
            using var group = reader.OpenRowGroupReader(0);
            var values = new long?[group.RowCount];
            await group.ReadAsync<long>(reader.Schema.GetDataFields().Single(f => f.Name == "id"), values.AsMemory(), null);
            Assert.Equal(entry.GetProperty("rows").GetInt64(), values.Length);
            ids.AddRange(values.Select(v => v!.Value));
        }

        Assert.Equal(Enumerable.Range(1, 250).Select(i => (long)i), ids.Order());

        // syncctl verify checks the run's objects against its manifest and counts (issue 15): equal as
        // written, and a deleted object is reported by its key.
        var equal = await VerifyS3Async();
        Assert.Equal(("Equal", 0, 250L, $"run={run.RunId:D}"), (equal.GetProperty("outcome").GetString(), equal.GetProperty("exitCode").GetInt32(), equal.GetProperty("destinationRows").GetInt64(), equal.GetProperty("watermark").GetString()));
        var gone = objects[1].GetProperty("key").GetString()!;
        await client.DeleteObjectAsync(bucket, gone);
        var different = await VerifyS3Async();
        Assert.Equal(("Different", 1, 1), (different.GetProperty("outcome").GetString(), different.GetProperty("exitCode").GetInt32(), different.GetProperty("missing").GetInt32()));
        Assert.Equal(gone, different.GetProperty("mismatches")[0].GetProperty("key")[0].GetString());
    }

    private async Task<JsonElement> VerifyS3Async()
    {
        using var request = Keyed(HttpMethod.Post, $"/api/jobs/{S3Export.Job}/verify");
        using var response = await Deployment.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body + Deployment.Logs());
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static JsonDocument? ParseComplete(byte[]? body)
    {
        try
        {
            return body is { Length: > 0 } ? JsonDocument.Parse(body) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
