using Microsoft.Extensions.Configuration;

namespace Sync.ServiceDefaults.Tests;

public sealed class SecretRedactorTests
{
    private static SecretRedactor FromSettings(params (string Key, string Value)[] settings) =>
        SecretRedactor.FromConfiguration(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build());

    [Fact]
    public void Passwords_of_connection_strings_are_masked_wherever_they_appear()
    {
        var redactor = FromSettings(
            ("ConnectionStrings:Control", "Host=db;Username=sync;Password=s3cret-control"),
            ("Connections:source", "Host=src;Username=reader;Pwd=s3cret-source"));

        Assert.Equal(
            "failed: Host=db;Username=sync;Password=***; then ***",
            redactor.Redact("failed: Host=db;Username=sync;Password=s3cret-control; then s3cret-source"));
    }

    [Fact]
    public void Values_of_secret_settings_are_masked()
    {
        var redactor = FromSettings(
            ("Coordinator:ApiKey", "key-123456"),
            ("HttpConnections:orders_api:AuthSecret", "Bearer tok-abcdef"),
            ("RabbitMq:Password", "rabbit-pw"),
            ("RabbitMq:Host", "broker.local"),
            ("Messaging:JobSigningKey", "hmac-key-abcdef"),
            ("Messaging:AcceptedJobSigningKey", "old-hmac-key-abcdef"));

        Assert.Equal(
            "X-Api-Key: *** Authorization: *** amqp://sync:***@broker.local keys *** ***",
            redactor.Redact("X-Api-Key: key-123456 Authorization: Bearer tok-abcdef amqp://sync:rabbit-pw@broker.local keys hmac-key-abcdef old-hmac-key-abcdef"));
    }

    [Fact]
    public void Short_secrets_are_not_masked_so_ordinary_words_survive()
    {
        // "sync" is the local installation's user and password: masking it would mask the product's name.
        var redactor = FromSettings(("ConnectionStrings:Control", "Host=db;Username=sync;Password=sync"));

        Assert.Equal("sync started", redactor.Redact("sync started"));
    }

    [Fact]
    public void A_connection_string_is_rendered_without_its_password()
    {
        Assert.Equal(
            "host=db;username=sync;password=***",
            SecretRedactor.RedactConnectionString("Host=db;Username=sync;Password=s3cret").ToLowerInvariant());
        Assert.Equal(SecretRedactor.Mask, SecretRedactor.RedactConnectionString("Host=db;Password"));
    }

    [Fact]
    public void The_console_writer_masks_each_entry_it_writes()
    {
        var redactor = new SecretRedactor(["s3cret-value"]);
        using var inner = new StringWriter();
        using var writer = new RedactingTextWriter(inner, redactor);

        writer.Write("{\"Message\":\"Password=s3cret-value\"}");
        writer.WriteLine(" and s3cret-value");

        Assert.Equal("{\"Message\":\"Password=***\"} and ***" + Environment.NewLine, inner.ToString());
    }

    [Fact]
    public void A_run_context_is_fields_for_json_logs_and_one_line_for_simple_logs()
    {
        var runId = Guid.Parse("0198c3a2-0000-7000-8000-000000000001");
        var batch = new RunContext("orders", runId, 3);

        Assert.Equal([new("Job", "orders"), new("RunId", runId), new("BatchSeq", 3)], batch.ToList());
        Assert.Equal("Job=orders RunId=0198c3a2-0000-7000-8000-000000000001 BatchSeq=3", batch.ToString());
        Assert.Equal("Job=orders RunId=0198c3a2-0000-7000-8000-000000000001", new RunContext("orders", runId).ToString());
    }
}
