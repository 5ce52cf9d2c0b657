using System.Text;
using System.Text.RegularExpressions;

namespace Sync.Architecture.Tests;

/// <summary>
/// README.md is the front page and the reference lives in docs/ (issue 18, item 6): every relative link
/// between them must reach a file of the repository, and every #anchor a heading of its target.
/// </summary>
public sealed partial class DocumentationLinkTests
{
    private static readonly string[] Names =
    [
        "README.md",
        .. Directory.EnumerateFiles(Path.Combine(Projects.Root, "docs"), "*.md")
            .Select(path => Path.GetRelativePath(Projects.Root, path).Replace('\\', '/'))
            .Order(StringComparer.Ordinal),
    ];

    public static TheoryData<string> Documents => [.. Names];

    [Fact]
    public void The_front_page_and_the_reference_are_found()
    {
        Assert.Contains("README.md", Names);
        Assert.Contains("docs/job-files.md", Names);
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void Every_relative_link_reaches_a_file_of_the_repository_and_its_anchor(string document)
    {
        var path = Path.Combine(Projects.Root, document);
        var broken = new List<string>();
        foreach (var (line, target) in LinksOf(File.ReadAllLines(path)))
        {
            if (IsExternal(target))
            {
                continue;
            }

            var hash = target.IndexOf('#', StringComparison.Ordinal);
            var file = hash < 0 ? target : target[..hash];
            var anchor = hash < 0 ? null : target[(hash + 1)..];
            var resolved = file.Length == 0 ? path : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, Uri.UnescapeDataString(file)));
            if (!resolved.StartsWith(Projects.Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                broken.Add($"{document}:{line}: {target} is outside the repository");
            }
            else if (!File.Exists(resolved) && !Directory.Exists(resolved))
            {
                broken.Add($"{document}:{line}: {target}: no such file");
            }
            else if (anchor is not null && resolved.EndsWith(".md", StringComparison.Ordinal) && !AnchorsOf(resolved).Contains(anchor))
            {
                broken.Add($"{document}:{line}: {target}: no heading with that anchor in {Path.GetRelativePath(Projects.Root, resolved)}");
            }
        }

        Assert.True(broken.Count == 0, $"Broken links:\n{string.Join('\n', broken)}");
    }

    [Fact]
    public void Anchors_are_made_as_GitHub_makes_them()
    {
        string[] headings =
        [
            "# Sync",
            "## Many tables in one job (`streams:`)",
            "### C# sources and sinks (`type: code`)",
            "## Verify and repair (`syncctl verify`)",
            "## Sync",
        ];

        Assert.Equal(
            ["sync", "many-tables-in-one-job-streams", "c-sources-and-sinks-type-code", "verify-and-repair-syncctl-verify", "sync-1"],
            AnchorsFrom(headings));
    }

    private static bool IsExternal(string target) =>
        target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal);

    /// <summary>(line number, target) of each inline link outside code blocks and code spans.</summary>
    private static IEnumerable<(int Line, string Target)> LinksOf(string[] lines)
    {
        var fenced = false;
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                fenced = !fenced;
                continue;
            }

            if (fenced)
            {
                continue;
            }

            foreach (Match link in Link().Matches(CodeSpan().Replace(lines[i], "")))
            {
                yield return (i + 1, link.Groups["target"].Value);
            }
        }
    }

    private static HashSet<string> AnchorsOf(string markdown) => [.. AnchorsFrom(HeadingsOf(File.ReadAllLines(markdown)))];

    private static IEnumerable<string> HeadingsOf(string[] lines)
    {
        var fenced = false;
        foreach (var line in lines)
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                fenced = !fenced;
            }
            else if (!fenced && line.StartsWith('#'))
            {
                yield return line;
            }
        }
    }

    // GitHub's rule: the heading's text lower-cased, every character but letters, digits, spaces, - and _
    // dropped, spaces made -; a repeated anchor gets -1, -2, … in order.
    private static List<string> AnchorsFrom(IEnumerable<string> headings)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var anchors = new List<string>();
        foreach (var heading in headings)
        {
            var text = heading.TrimStart('#').Trim().ToLowerInvariant();
            var slug = new StringBuilder();
            foreach (var c in text)
            {
                if (char.IsLetterOrDigit(c) || c is '-' or '_')
                {
                    slug.Append(c);
                }
                else if (c == ' ')
                {
                    slug.Append('-');
                }
            }

            var anchor = slug.ToString();
            if (seen.TryGetValue(anchor, out var count))
            {
                seen[anchor] = count + 1;
                anchor = $"{anchor}-{count}";
            }
            else
            {
                seen[anchor] = 1;
            }

            anchors.Add(anchor);
        }

        return anchors;
    }

    [GeneratedRegex(@"`[^`]*`")]
    private static partial Regex CodeSpan();

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)(\s+""[^""]*"")?\)")]
    private static partial Regex Link();
}
