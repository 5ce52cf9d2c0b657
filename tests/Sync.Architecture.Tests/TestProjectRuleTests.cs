using System.Xml.Linq;

namespace Sync.Architecture.Tests;

/// <summary>
/// Shared test code lives in one project, tests/Sync.Testing, that test projects reference (issue 17):
/// a source file linked from another test project compiles twice under two namespaces and drifts,
/// as the two fixtures that read the connection settings differently once did.
/// </summary>
public sealed class TestProjectRuleTests
{
    private static readonly string[] Names = [.. Projects.TestProjectFiles.Select(Path.GetFileNameWithoutExtension).OfType<string>()];

    public static TheoryData<string> TestProjects => [.. Names];

    [Fact]
    public void The_test_projects_are_found()
    {
        Assert.Contains("Sync.Testing", Names);
        Assert.Contains("Sync.EndToEnd.Tests", Names);
    }

    [Theory]
    [MemberData(nameof(TestProjects))]
    public void A_test_project_links_no_source_file_from_outside_its_folder(string project)
    {
        var file = Projects.TestProjectFiles.Single(path => Path.GetFileNameWithoutExtension(path) == project);

        var linked = XDocument.Load(file).Descendants()
            .Where(element => element.Name.LocalName == "Compile")
            .Select(element => (string?)element.Attribute("Include") ?? "")
            .Where(include => include.Contains("..", StringComparison.Ordinal));

        Assert.Empty(linked);
    }
}
