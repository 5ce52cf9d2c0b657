using Microsoft.EntityFrameworkCore;

namespace Sync.Coordinator.Data;

/// <summary>Hands out run fences: a later run of a job always has a larger one (see RunFence in the destination).</summary>
internal static class RunFences
{
    public static Task<long> NextAsync(CoordinatorDbContext dbContext, CancellationToken cancellationToken) =>
        dbContext.Database.SqlQuery<long>($"SELECT nextval('sync_run_fence') AS \"Value\"").SingleAsync(cancellationToken);
}
