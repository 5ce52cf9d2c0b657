using MassTransit;
using Microsoft.Extensions.Logging;
using Npgsql;
using Sync.Connectors;
using Sync.Connectors.Postgres.Cdc;
using Sync.Contracts;

namespace Sync.Extractor;

/// <summary>
/// Drops a cdc job's replication slot and publication for the Coordinator (issue 17): the Extractor
/// holds the source connections. What it cannot drop now is answered <see cref="CdcSlotKept"/> with
/// the reason, and the Coordinator keeps its record for a later attempt.
/// </summary>
internal sealed partial class DropCdcSlotConsumer(ConnectionCatalog connections, ILogger<DropCdcSlotConsumer> logger) : IConsumer<DropCdcSlot>
{
    public async Task Consume(ConsumeContext<DropCdcSlot> context)
    {
        var message = context.Message;
        if (!connections.IsDefined(message.Connection))
        {
            await KeepAsync(context, $"connection \"{message.Connection}\" is not configured in the Extractor (Connections__{message.Connection})");
            return;
        }

        try
        {
            await using var source = await connections.Get(message.Connection).OpenConnectionAsync(context.CancellationToken);
            var existed = true;
            if (message.EndReader)
            {
                existed = await CdcSlotRemoval.DropAsync(source, message.Slot, message.Publication, context.CancellationToken);
            }
            else
            {
                await CdcSlot.DropAsync(source, message.JobName, context.CancellationToken);
            }

            LogDropped(message.Slot, message.JobName, message.Connection);
            await context.RespondAsync(new CdcSlotDropped(message.JobName, message.Connection, message.Slot, existed));
        }
        catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException && !context.CancellationToken.IsCancellationRequested)
        {
            await KeepAsync(context, $"dropping it on connection \"{message.Connection}\" failed: {exception.Message}");
        }
    }

    private async Task KeepAsync(ConsumeContext<DropCdcSlot> context, string reason)
    {
        var message = context.Message;
        LogKept(message.Slot, message.JobName, reason);
        await context.RespondAsync(new CdcSlotKept(message.JobName, message.Connection, message.Slot, reason));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Dropped replication slot and publication {Slot} of cdc job {JobName} on connection {Connection}")]
    private partial void LogDropped(string slot, string jobName, string connection);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replication slot {Slot} of cdc job {JobName} was not dropped: {Reason}")]
    private partial void LogKept(string slot, string jobName, string reason);
}
