using Microsoft.EntityFrameworkCore;

namespace Sync.Outbox.Tests.Infrastructure;

/// <summary>A host's DbContext: its own business table next to the inbox and outbox.</summary>
public sealed class TestDbContext(DbContextOptions<TestDbContext> options) : DbContext(options)
{
    public DbSet<RecordedOrder> Orders => Set<RecordedOrder>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<RecordedOrder>(order =>
        {
            order.ToTable("orders");
            order.HasKey(o => o.Id);
            order.Property(o => o.Id).HasColumnName("id");
            order.Property(o => o.Attempt).HasColumnName("attempt");
        });
        modelBuilder.AddSyncOutbox();
    }
}

/// <summary>The business effect of one RecordOrder: a row, written in the consumer's transaction.</summary>
public sealed class RecordedOrder
{
    public Guid Id { get; set; }

    public int Attempt { get; set; }
}
