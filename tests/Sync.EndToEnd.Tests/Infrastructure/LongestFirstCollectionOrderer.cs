using Xunit;
using Xunit.Abstractions;

namespace Sync.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Starts the test classes that take longest first, so that four running side by side finish close
/// together instead of leaving two long ones alone at the end (in the clean-clone run of 6 December
/// 2026, PoisonRecordTests and VerifyJobTests started at 775 s and kept the suite going to 888 s).
/// The order only changes when a class starts, never what it tests; classes not named keep xUnit's
/// order after these, and <see cref="ExclusiveInfrastructure"/> still runs alone after the rest.
/// </summary>
public sealed class LongestFirstCollectionOrderer : ITestCollectionOrderer
{
    // Class durations of that run, longest first (seconds, four classes at a time).
    private static readonly string[] Longest =
    [
        "LoaderCrashTests",          // 130
        "PoisonRecordTests",         // 114
        "VerifyJobTests",            // 107
        "RedeliveryTests",           // ~120 with two at a time
        "SupersededRunTests",        // ~100
        "CoordinatorInboxTests",     // 89
        "CoordinatorCrashTests",     // ~88
        "CdcPagilaTests",            // ~80
        "TransformerCrashTests",     // ~77
        "ScaledStagesTests",         // ~68, waits for a minute boundary
        "StreamsPagilaTests",        // ~67
        "RabbitClusterTests",        // ~62, three RabbitMQ nodes boot
        "CdcStreamTests",            // ~62
        "MultipleLoadersTests",      // ~62
    ];

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections
            .Select((collection, index) => (collection, index, rank: Rank(collection.DisplayName)))
            .OrderBy(c => c.rank)
            .ThenBy(c => c.index)
            .Select(c => c.collection);

    private static int Rank(string displayName)
    {
        for (var i = 0; i < Longest.Length; i++)
        {
            if (displayName.EndsWith("." + Longest[i], StringComparison.Ordinal))
            {
                return i;
            }
        }

        return Longest.Length;
    }
}
