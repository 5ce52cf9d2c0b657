using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Sync.Outbox;

/// <summary>
/// The few statements EF cannot express (row locks), built from the model's own table and column
/// names so a host schema is honoured. Values always travel as parameters ({0}, {1}).
/// </summary>
internal static class OutboxSql
{
    /// <summary>Locks one inbox row: a concurrent duplicate waits here instead of running the consumer twice.</summary>
    public static string LockInbox(DbContext dbContext)
    {
        var (table, column) = Names<InboxState>(dbContext);
        return $"SELECT * FROM {table} WHERE {column(nameof(InboxState.MessageId))} = {{0}} AND {column(nameof(InboxState.ConsumerId))} = {{1}} FOR UPDATE";
    }

    /// <summary>
    /// Inserts the inbox row of (message id {0}, consumer id {1}) with lock id {2}, received {3} and
    /// expiration {4}, or, when it is there, writes the new lock id into it; either way the row comes
    /// back locked. One statement where MassTransit's design takes a transaction of its own to insert the
    /// row and a second pass to lock it (issue 16: a transaction and three round trips per message). A
    /// concurrent duplicate's insert waits on the unique index, then takes this branch and waits on the lock.
    /// </summary>
    public static string ReceiveInbox(DbContext dbContext)
    {
        var (table, column) = Names<InboxState>(dbContext);
        var messageId = column(nameof(InboxState.MessageId));
        var consumerId = column(nameof(InboxState.ConsumerId));
        var lockId = column(nameof(InboxState.LockId));
        return $"INSERT INTO {table} ({messageId}, {consumerId}, {lockId}, {column(nameof(InboxState.Received))}, {column(nameof(InboxState.ReceiveCount))}, " +
            $"{column(nameof(InboxState.RowVersion))}, {column(nameof(InboxState.ExpirationTime))}) VALUES ({{0}}, {{1}}, {{2}}, {{3}}, 0, 0, {{4}}) " +
            $"ON CONFLICT ({messageId}, {consumerId}) DO UPDATE SET {lockId} = EXCLUDED.{lockId} RETURNING *";
    }

    /// <summary>The oldest unit of work no other replica is delivering.</summary>
    public static string NextOutbox(DbContext dbContext)
    {
        var (table, column) = Names<OutboxState>(dbContext);
        return $"SELECT * FROM {table} ORDER BY {column(nameof(OutboxState.Created))} LIMIT 1 FOR UPDATE SKIP LOCKED";
    }

    /// <summary>The oldest consumed, undelivered inbox row that no consumer pass holds (its process died, or its message went to the error queue).</summary>
    public static string NextStrandedInbox(DbContext dbContext)
    {
        var (table, column) = Names<InboxState>(dbContext);
        var consumed = column(nameof(InboxState.Consumed));
        return $"SELECT * FROM {table} WHERE {consumed} < {{0}} AND {column(nameof(InboxState.Delivered))} IS NULL ORDER BY {consumed} LIMIT 1 FOR UPDATE SKIP LOCKED";
    }

    private static (string Table, Func<string, string> Column) Names<T>(DbContext dbContext)
    {
        var entity = dbContext.Model.FindEntityType(typeof(T))
            ?? throw new InvalidOperationException($"{typeof(T).Name} is not in {dbContext.GetType().Name}'s model; call modelBuilder.AddSyncOutbox() in OnModelCreating.");
        var table = entity.GetTableName()!;
        var schema = entity.GetSchema();
        var store = StoreObjectIdentifier.Table(table, schema);
        var qualified = schema is null ? Quote(table) : $"{Quote(schema)}.{Quote(table)}";
        return (qualified, property => Quote(entity.FindProperty(property)!.GetColumnName(store)!));
    }

    private static string Quote(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
