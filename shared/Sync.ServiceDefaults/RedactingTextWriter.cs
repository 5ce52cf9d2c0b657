using System.Text;

namespace Sync.ServiceDefaults;

/// <summary>
/// Standard output and error with <see cref="SecretRedactor"/> applied: the console logger writes
/// each entry with one Write call, so a secret inside an entry is masked whatever logged it.
/// </summary>
internal sealed class RedactingTextWriter(TextWriter inner, SecretRedactor redactor) : TextWriter
{
    public override Encoding Encoding => inner.Encoding;

    public override IFormatProvider FormatProvider => inner.FormatProvider;

    public override void Write(char value) => inner.Write(value);

    public override void Write(string? value) => inner.Write(value is null ? null : redactor.Redact(value));

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void WriteLine(string? value) => inner.WriteLine(value is null ? null : redactor.Redact(value));

    public override void Flush() => inner.Flush();

    public override Task FlushAsync() => inner.FlushAsync();

    public override Task WriteAsync(string? value) => inner.WriteAsync(value is null ? null : redactor.Redact(value));

    public override Task WriteLineAsync(string? value) => inner.WriteLineAsync(value is null ? null : redactor.Redact(value));

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Flush();
        }

        base.Dispose(disposing);
    }
}
