using System.Net.Http.Json;
using System.Text.Json;
using PuppeteerSharp;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// The Coordinator's web dashboard in headless Chromium (Debian's package) against the shared
/// operations deployment: it shows what a real run left behind, and its replay button works.
/// </summary>
[Collection(OperationsCollection.Name)]
public sealed class DashboardTests(OperationsFixture fixture)
{
    private const string Chromium = "/usr/bin/chromium";
    private const int Width = 1280;
    private const int Height = 900;

    private SyncDeployment Deployment => fixture.Deployment;

    [Fact]
    public async Task Dashboard_shows_a_run_and_its_dead_letter_and_replays_it_with_the_api_key()
    {
        await OrdersTable.SeedAsync(Deployment.Source, "orders_dash", 1, 200);
        // The destination's CHECK refuses this one row: a record dead letter of stage load.
        await OrdersTable.ExecuteAsync(Deployment.Source,
            "INSERT INTO orders_dash (id, customer_id, status, amount, note, created_at, updated_at) VALUES (201, 1, 'new', -1, 'refused', now(), now())");
        var run = await RunWithKeyAsync("orders-dash");
        Assert.True(run.State == "Completed", $"{run}\n{Deployment.Logs()}");
        Assert.Equal(201L, run.Processed);
        var letter = (await Deployment.Http.GetFromJsonAsync<JsonElement>("/api/dead-letters?job=orders-dash")).EnumerateArray().Single();
        var letterId = letter.GetProperty("id").GetInt64();

        await using var browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });
        await using var page = await browser.NewPageAsync();
        await page.SetViewportAsync(new ViewPortOptions { Width = Width, Height = Height });
        await page.GoToAsync(Deployment.Http.BaseAddress + "", WaitUntilNavigation.Load);
        Assert.EndsWith("/dashboard/", page.Url, StringComparison.Ordinal);

        var waitOptions = new WaitForFunctionOptions { Timeout = 30_000 };
        // The Coordinator has a key, so the page cannot read without one; the read-only key lets it.
        await page.WaitForFunctionAsync("() => document.getElementById('message').className === 'error'", waitOptions);
        Assert.Contains("needs a key", await TextAsync(page, "#message"), StringComparison.Ordinal);
        Assert.Equal(0, await page.EvaluateExpressionAsync<int>("document.querySelectorAll('#jobs tr[data-job]').length"));
        await page.TypeAsync("#api-key", OperationsFixture.ReadKey);
        await page.ClickAsync("#key-form button[type=submit]");
        await page.WaitForFunctionAsync("() => document.querySelector('#jobs tr[data-job=\"orders-dash\"]') !== null", waitOptions);
        await ClickAsync(page, "#jobs tr[data-job=\"orders-dash\"] td.name button");
        await page.WaitForFunctionAsync(
            $"() => document.getElementById('runs-job').textContent === 'orders-dash' && document.querySelector('#runs tr[data-run=\"{run.RunId}\"]') !== null", waitOptions);

        Assert.Equal("orders-dash", await TextAsync(page, "#jobs tr[data-job=\"orders-dash\"] td.name"));
        Assert.Equal(run.Processed.ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
            await TextAsync(page, "#jobs tr[data-job=\"orders-dash\"] td.rows"));
        Assert.Contains("Completed", await TextAsync(page, "#jobs tr[data-job=\"orders-dash\"] td.last-run"), StringComparison.Ordinal);
        Assert.Equal("201", await TextAsync(page, $"#runs tr[data-run=\"{run.RunId}\"] td.rows"));
        Assert.Equal(1, await page.EvaluateExpressionAsync<int>("document.querySelectorAll('#throughput rect.bar').length"));

        var letterRow = $"#dead-letters tr[data-dead-letter=\"{letterId}\"]";
        await page.WaitForSelectorAsync(letterRow, new WaitForSelectorOptions { Timeout = 30_000 });
        var letterText = await TextAsync(page, letterRow);
        Assert.Contains("orders-dash", letterText, StringComparison.Ordinal);
        Assert.Contains("pending", letterText, StringComparison.Ordinal);
        Assert.Equal(letter.GetProperty("error").GetString(), await TextAsync(page, $"{letterRow} td.error"));

        var screenshot = await page.ScreenshotDataAsync(new ScreenshotOptions { Type = ScreenshotType.Png });
        await File.WriteAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "dashboard.png"), screenshot);
        var image = PngImage.Decode(screenshot);
        Assert.Equal((Width, Height), (image.Width, image.Height));
        var (colours, dominantShare) = image.Variety();
        Assert.True(colours >= 16 && dominantShare < 0.97, $"the screenshot looks blank: {colours} colours, the commonest covers {dominantShare:P1}");

        // Without the key the Coordinator refuses the replay, and the page says why.
        await ClickAsync(page, $"{letterRow} button.replay");
        await page.WaitForFunctionAsync("() => document.getElementById('message').className === 'error'", waitOptions);
        Assert.Contains("API key", await TextAsync(page, "#message"), StringComparison.Ordinal);
        Assert.Equal(1, await AttemptsAsync(letterId));

        // With the key (kept in sessionStorage) it starts a replay run; the record is refused again,
        // so the dead letter is pending once more with a second attempt.
        await page.TypeAsync("#api-key", OperationsFixture.Key);
        await page.ClickAsync("#key-form button[type=submit]");
        Assert.Equal(OperationsFixture.Key, await page.EvaluateExpressionAsync<string>("sessionStorage.getItem('sync.apiKey')"));
        await ClickAsync(page, $"{letterRow} button.replay");
        var deadline = DateTime.UtcNow.AddSeconds(90);
        string? replayState;
        while ((replayState = await ReplayStateAsync()) is null or "Extracting" or "Loading")
        {
            Assert.True(DateTime.UtcNow < deadline, "the replay never finished\n" + Deployment.Logs());
            await Task.Delay(250);
        }

        Assert.Equal("Completed", replayState);
        Assert.Equal(2, await AttemptsAsync(letterId));
    }

    private async Task<string?> ReplayStateAsync() =>
        (string?)await OrdersTable.ScalarAsync(Deployment.Control,
            "SELECT current_state FROM sync_runs WHERE job_name = 'orders-dash' AND trigger = 'replay' ORDER BY started_at DESC LIMIT 1");

    // The tables are rendered anew on every refresh (every 5 s, and at once when a key is entered):
    // a click through the DevTools protocol can land on a row just replaced; a click in the page cannot.
    private static Task ClickAsync(IPage page, string selector) =>
        page.EvaluateFunctionAsync("s => document.querySelector(s).click()", selector);

    // The dashboard renders its tables again on each refresh, so an element found a moment ago can be
    // missing between two renders (CI, 7 December: "Cannot read properties of null"): read it again.
    private static async Task<string> TextAsync(IPage page, string selector)
    {
        for (var attempt = 1; ; attempt++)
        {
            var text = await page.EvaluateFunctionAsync<string?>("s => document.querySelector(s)?.textContent.trim() ?? null", selector);
            if (text is not null)
            {
                return text;
            }

            if (attempt == 50)
            {
                throw new InvalidOperationException($"The dashboard shows no {selector}.");
            }

            await Task.Delay(100);
        }
    }

    private async Task<int> AttemptsAsync(long letterId) =>
        (int)(await OrdersTable.ScalarAsync(Deployment.Control, "SELECT attempts FROM dead_letters WHERE id = $1", letterId))!;

    private async Task<RunResult> RunWithKeyAsync(string job)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/jobs/{job}/runs");
        request.Headers.Add("X-Api-Key", OperationsFixture.Key);
        using var response = await Deployment.Http.SendAsync(request);
        var started = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<RunStartedResult>();
        return await Deployment.WaitForRunAsync(started!.RunId);
    }
}
