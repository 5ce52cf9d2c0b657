using Sync.Contracts;
using Sync.Messaging.Serialization;

namespace MassTransit;

public static class BatchBodyExtensions
{
    /// <summary>
    /// Stage batches (<see cref="TransformBatch"/>, <see cref="LoadBatch"/>) are sent as their rows'
    /// bytes after the JSON envelope (<see cref="BatchBodySerializer"/>), and read so; every other
    /// message stays MassTransit's JSON. Any bus that sends or reads stage batches needs it.
    /// </summary>
    public static void UseBatchBodies(this IBusFactoryConfigurator bus)
    {
        var batches = new BatchBodySerializer();
        bus.AddSerializer(batches, isSerializer: false);
        bus.AddDeserializer(batches);
        bus.Send<TransformBatch>(batch => batch.UseSerializer(BatchBodySerializer.BatchContentType));
        bus.Send<LoadBatch>(batch => batch.UseSerializer(BatchBodySerializer.BatchContentType));
    }
}
