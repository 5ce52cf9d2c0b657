using System.Net;
using System.Text.Json;
using Npgsql;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// <c>syncctl check CONNECTION</c> through the four services (issue 18, item 4): the Extractor opens the
/// connection; a good one answers ok with the server's version and cdc readiness, one with a wrong
/// password answers the error without the password, an unknown one exits 2.
/// </summary>
public sealed class ConnectionCheckTests
{
    private const string WrongPassword = "wrong-pw-7f3a9c21";

    [Fact]
    public async Task Check_answers_ok_for_a_good_connection_and_the_error_without_the_password_for_a_bad_one()
    {
        await using var sync = await SyncDeployment.CreateAsync("check");
        sync.SetEnvironment("Connections__wrongpw", new NpgsqlConnectionStringBuilder(sync.Source) { Password = WrongPassword }.ConnectionString);
        sync.SetEnvironment("HttpConnections__closed_api__BaseUrl", "http://127.0.0.1:1/");
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
    }
}
