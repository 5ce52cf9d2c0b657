using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Sync.Jobs;

/// <summary>Loads the text of a job file as exactly one YAML mapping, reporting syntax errors where they are.</summary>
internal static partial class YamlDocumentLoader
{
    private const string Shape = "name:, schedule:, source:, destination:";

    public static YamlMappingNode? LoadMapping(string text, JobFileErrors errors)
    {
        var parser = new Parser(new StringReader(text));
        var stream = new YamlStream();
        try
        {
            stream.Load(parser);
        }
        catch (YamlException e)
        {
            var at = e.Message.Contains("tab", StringComparison.OrdinalIgnoreCase) ? FirstTabIndent(text) ?? e.Start : e.Start;
            errors.Add(at, "", $"is not valid YAML: {e.Message.TrimEnd('.')}", SyntaxHint(e.Message, LineAt(text, at)));
            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet 18's scanner throws this instead of a YamlException on some malformed flow collections
            // (e.g. "a: [1,\nb: 2"); the last event parsed is the closest position we have.
            var at = parser.Current?.End ?? Mark.Empty;
            errors.Add(at, "", "is not valid YAML: a [list] or {mapping} is not closed", "close the bracket, or quote the value if it starts with [ or {");
            return null;
        }

        switch (stream.Documents.Count)
        {
            case 0:
                errors.Add(Mark.Empty, "", "is empty", $"write a job as a mapping: {Shape}");
                return null;
            case > 1:
                errors.Add(stream.Documents[1].RootNode.Start, "", $"holds {stream.Documents.Count} YAML documents; a file holds one job", "move each job into a file of its own");
                return null;
        }

        var root = stream.Documents[0].RootNode;
        if (root is YamlMappingNode mapping)
        {
            return mapping;
        }

        var shape = root is YamlSequenceNode ? "a list" : "a single value";
        errors.Add(root.Start, "", $"must be a mapping of job settings ({Shape}), not {shape}", $"write one setting per line: {Shape}");
        return null;
    }

    private static string SyntaxHint(string message, string line) => message switch
    {
        // Cron schedules trip over this: "*/15 * * * *" reads as an alias, "@hourly" as a reserved character.
        _ when UnquotedSpecialValue().Match(line) is { Success: true } m => $"quote the value: {m.Groups[1].Value}: \"{m.Groups[2].Value.TrimEnd()}\"",
        _ when message.Contains("tab", StringComparison.OrdinalIgnoreCase) => "indent with spaces; YAML does not allow tabs",
        _ when message.Contains("Duplicate key", StringComparison.Ordinal) => "keep only one of the entries with this key",
        _ when message.Contains("anchor", StringComparison.OrdinalIgnoreCase) => "define &name before using *name, or quote a value that starts with *",
        _ when message.Contains("mapping", StringComparison.OrdinalIgnoreCase) => "check the indentation, and quote a value that contains \": \"",
        _ => "check the indentation, quotes and brackets on this line and the one before",
    };

    [GeneratedRegex(@"^\s*(?:-\s+)?([A-Za-z_][A-Za-z0-9_]*):\s+([*@`].*)$", RegexOptions.CultureInvariant)]
    private static partial Regex UnquotedSpecialValue();

    // YamlDotNet reports a tab in indentation at the start of the enclosing mapping; point at the tab itself.
    private static Mark? FirstTabIndent(string text)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var indent = lines[i].Length - lines[i].TrimStart(' ', '\t').Length;
            var tab = lines[i].IndexOf('\t', StringComparison.Ordinal);
            if (tab >= 0 && tab < indent)
            {
                return new Mark(0, i + 1, tab + 1);
            }
        }

        return null;
    }

    private static string LineAt(string text, Mark at)
    {
        var lines = text.Split('\n');
        return at.Line >= 1 && at.Line <= lines.Length ? lines[at.Line - 1].TrimEnd('\r') : "";
    }
}
