using Microsoft.EntityFrameworkCore;
using Sync.Coordinator.Runs;

namespace Sync.Coordinator.Data;

/// <summary>The control database: run sagas, their batches, watermarks and metrics, and the saga endpoint's inbox and outbox.</summary>
public sealed class CoordinatorDbContext(DbContextOptions<CoordinatorDbContext> options) : DbContext(options)
{
    public DbSet<SyncRunState> Runs => Set<SyncRunState>();

    public DbSet<SyncRunBatch> RunBatches => Set<SyncRunBatch>();

    public DbSet<SyncWatermark> Watermarks => Set<SyncWatermark>();

    public DbSet<SyncMetric> Metrics => Set<SyncMetric>();

    public DbSet<DeadLetter> DeadLetters => Set<DeadLetter>();

    public DbSet<SyncJobPause> JobPauses => Set<SyncJobPause>();

    public DbSet<SyncVerification> Verifications => Set<SyncVerification>();

    public override Task<int> SaveChangesAsync(CancellationToken cancellationToken = default)
    {
        foreach (var entry in ChangeTracker.Entries<SyncRunState>().Where(e => e.State is EntityState.Added or EntityState.Modified))
        {
            entry.Entity.UpdatedAt = DateTimeOffset.UtcNow;
        }

        return base.SaveChangesAsync(cancellationToken);
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<SyncRunState>(run =>
        {
            run.ToTable(ControlTables.Runs);
            run.HasKey(r => r.CorrelationId);
            run.Property(r => r.StartCursor).HasColumnType("jsonb");
            run.Property(r => r.HighCursor).HasColumnType("jsonb");
            run.Ignore(r => r.IsFullyLoaded);
        });
        modelBuilder.Entity<SyncRunBatch>(batch =>
        {
            batch.ToTable(ControlTables.RunBatches);
            batch.HasKey(b => new { b.RunId, b.ExtractionId, b.BatchSeq });
        });
        modelBuilder.Entity<SyncWatermark>(watermark =>
        {
            watermark.ToTable(ControlTables.Watermarks);
            watermark.HasKey(w => w.Key);
            watermark.Property(w => w.Cursor).HasColumnType("jsonb");
            watermark.Property(w => w.Metadata).HasColumnType("jsonb");
        });
        modelBuilder.Entity<SyncMetric>(metric =>
        {
            metric.ToTable(ControlTables.Metrics);
            metric.HasKey(m => m.Id);
            metric.Property(m => m.Id).UseIdentityAlwaysColumn();
        });
        modelBuilder.Entity<DeadLetter>(letter =>
        {
            letter.ToTable(ControlTables.DeadLetters);
            letter.HasKey(d => d.Id);
            letter.Property(d => d.Id).UseIdentityAlwaysColumn();
            letter.Property(d => d.RecordColumns).HasColumnType("jsonb");
            letter.Property(d => d.RecordText).HasColumnType("jsonb");
        });
        modelBuilder.Entity<SyncJobPause>(pause =>
        {
            pause.ToTable(ControlTables.JobPauses);
            pause.HasKey(p => p.JobName);
        });

        modelBuilder.Entity<SyncVerification>(verification =>
        {
            verification.ToTable(ControlTables.Verifications);
            verification.HasKey(v => v.Id);
            verification.Property(v => v.Mismatches).HasColumnType("jsonb");
        });

        foreach (var property in modelBuilder.Model.GetEntityTypes().SelectMany(e => e.GetProperties()))
        {
            property.SetColumnName(SnakeCase(property.Name));
        }

        modelBuilder.AddSyncOutbox();
    }

    private static string SnakeCase(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : string.Empty) + char.ToLowerInvariant(c) : c.ToString()));
}
