using System.Reflection;

namespace Sync.EndToEnd.Tests.Infrastructure;

/// <summary>
/// `./run test` runs the tests that stop or restart the shared servers by their trait, after every
/// other assembly: a class in the collection without the trait would run beside the other
/// assemblies and cut their connections; one with the trait outside the collection would run
/// beside the other tests of its own run.
/// </summary>
public sealed class ExclusiveInfrastructureTests
{
    [Fact]
    public void Every_class_of_the_exclusive_collection_carries_its_trait_and_no_other_does()
    {
        var classes = typeof(ExclusiveInfrastructure).Assembly.GetTypes()
            .Select(type => (
                type.FullName,
                InCollection: Arguments<CollectionAttribute>(type).Any(a => a.SequenceEqual([ExclusiveInfrastructure.Name])),
                HasTrait: Arguments<TraitAttribute>(type).Any(a => a.SequenceEqual(["Category", ExclusiveInfrastructure.Category]))))
            .Where(c => c.InCollection || c.HasTrait)
            .ToList();

        Assert.NotEmpty(classes);
        Assert.All(classes, c => Assert.True(c.InCollection && c.HasTrait, $"{c.FullName}: in the collection {c.InCollection}, trait {c.HasTrait}"));
    }

    // xUnit 2's attributes keep their arguments to themselves: read them as the compiler wrote them.
    private static IEnumerable<object?[]> Arguments<TAttribute>(Type type) =>
        type.GetCustomAttributesData()
            .Where(data => data.AttributeType == typeof(TAttribute))
            .Select(data => data.ConstructorArguments.Select(argument => argument.Value).ToArray());
}
