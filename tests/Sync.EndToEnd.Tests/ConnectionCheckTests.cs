using System.Net;
using System.Text.Json;
using Amazon.S3.Model;
using Npgsql;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// <c>syncctl check CONNECTION</c> through the four services (issue 18, item 4): the Extractor opens the
/// connection; a good one answers ok with the server's version and cdc readiness, one with a wrong
/// password answers the error without the password, an unknown one exits 2. An S3 connection is checked
/// by listing its bucket on the s3rver: ok, or the S3 error (an unknown access key, no such bucket)
/// without the keys.
/// </summary>
public sealed class ConnectionCheckTests
{
    private const string WrongPassword = "wrong-pw-7f3a9c21";
    private const string WrongSecret = "wrong-secret-5b1e0d77";
    private const string UnknownKey = "UNKNOWNKEY5B1E";

    [Fact]
    public async Task Check_answers_ok_for_a_good_connection_and_the_error_without_the_password_for_a_bad_one()
    {
        await using var sync = await SyncDeployment.CreateAsync("check");
        sync.SetEnvironment("Connections__wrongpw", new NpgsqlConnectionStringBuilder(sync.Source) { Password = WrongPassword }.ConnectionString);
        sync.SetEnvironment("HttpConnections__closed_api__BaseUrl", "http://127.0.0.1:1/");
        var bucket = $"{S3Export.Bucket(sync)}-check";
        foreach (var (name, bucketName, key, secret) in new[]
                 { ("lake", bucket, S3Export.AccessKey, S3Export.SecretKey), ("badkey", bucket, UnknownKey, WrongSecret), ("nobucket", $"{bucket}-missing", S3Export.AccessKey, S3Export.SecretKey) })
        {
            sync.SetEnvironment($"S3Connections__{name}__ServiceUrl", S3Export.Endpoint);
            sync.SetEnvironment($"S3Connections__{name}__Bucket", bucketName);
            sync.SetEnvironment($"S3Connections__{name}__AccessKey", key);
            sync.SetEnvironment($"S3Connections__{name}__SecretKey", secret);
        }

        using var s3 = S3Export.Client();
        await s3.PutBucketAsync(new PutBucketRequest { BucketName = bucket });
        await sync.StartAsync();

        var (code, output) = await sync.CliAsync(null, "check", "source", "--json");
        Assert.True(code == 0, output);
        var good = JsonDocument.Parse(output).RootElement;
        Assert.True(good.GetProperty("ok").GetBoolean());
        var version = await OrdersTable.ScalarAsync(sync.Source, "SELECT current_setting('server_version')");
        Assert.Equal(version, good.GetProperty("serverVersion").GetString());
        Assert.Equal(await OrdersTable.ScalarAsync(sync.Source, "SELECT current_setting('wal_level') = 'logical'"), good.GetProperty("walLevelLogical").GetBoolean());

        var (badCode, bad) = await sync.CliAsync(null, "check", "wrongpw");
        Assert.True(badCode == 1, bad);
        Assert.Contains("wrongpw: failed", bad, StringComparison.Ordinal);
        using var response = await sync.Http.PostAsync("/api/connections/wrongpw/check", content: null);
        var body = await response.Content.ReadAsStringAsync();
        var answer = JsonDocument.Parse(body).RootElement;
        Assert.False(answer.GetProperty("ok").GetBoolean());
        Assert.Contains("password authentication failed", answer.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(WrongPassword, body, StringComparison.Ordinal);

        // An http source's connection on a port nothing listens on.
        var (closedCode, closed) = await sync.CliAsync(null, "check", "closed_api");
        Assert.True(closedCode == 1, closed);
        Assert.Contains("closed_api: failed  http://127.0.0.1:1/ does not answer", closed, StringComparison.Ordinal);

        var (unknownCode, unknown) = await sync.CliAsync(null, "check", "nosuch");
        Assert.True(unknownCode == 2, unknown);
        Assert.Contains("Connection \"nosuch\" is not configured", unknown, StringComparison.Ordinal);
        using var notFound = await sync.Http.PostAsync("/api/connections/nosuch/check", content: null);
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);

        // S3: the bucket listed with the connection's keys; refused keys and a missing bucket are failures that say so.
        var (s3Code, s3Ok) = await sync.CliAsync(null, "check", "lake");
        Assert.True(s3Code == 0, s3Ok);
        Assert.Contains($"lake: ok  s3 bucket {bucket} at {S3Export.Endpoint}: listed, empty", s3Ok, StringComparison.Ordinal);

        // s3rver checks the access key (it accepts any secret with a key it knows).
        var (keyCode, badKey) = await sync.CliAsync(null, "check", "badkey");
        Assert.True(keyCode == 1, badKey);
        Assert.Contains($"badkey: failed  bucket {bucket} at {S3Export.Endpoint}: InvalidAccessKeyId (HTTP 403)", badKey, StringComparison.Ordinal);
        Assert.Contains("check S3Connections__badkey__AccessKey and __SecretKey", badKey, StringComparison.Ordinal);
        using (var refused = await sync.Http.PostAsync("/api/connections/badkey/check", content: null))
        {
            var refusedBody = await refused.Content.ReadAsStringAsync();
            Assert.Equal((HttpStatusCode.OK, "s3"), (refused.StatusCode, JsonDocument.Parse(refusedBody).RootElement.GetProperty("kind").GetString()));
            Assert.DoesNotContain(WrongSecret, refusedBody, StringComparison.Ordinal);
            Assert.DoesNotContain(UnknownKey, refusedBody, StringComparison.Ordinal);
        }

        var (missingCode, missing) = await sync.CliAsync(null, "check", "nobucket");
        Assert.True(missingCode == 1, missing);
        Assert.Contains($"nobucket: failed  bucket {bucket}-missing at {S3Export.Endpoint}: NoSuchBucket (HTTP 404)", missing, StringComparison.Ordinal);
        await s3.DeleteBucketAsync(bucket);
    }
}
