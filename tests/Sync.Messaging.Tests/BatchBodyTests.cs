using System.Runtime.Serialization;
using MassTransit;
using MassTransit.Context;
using MassTransit.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Jobs;
using Sync.Messaging.Serialization;

namespace Sync.Messaging.Tests;

/// <summary>
/// Stage batches on the wire (issue 16): through Sync's bus on the real broker, a
/// <see cref="TransformBatch"/> and a <see cref="LoadBatch"/> arrive with their rows and operations
/// byte for byte, under the batch content type, in a body the size of the rows rather than of their
/// base64; a batch redelivered after a transient failure keeps its rows; a JSON body under that content
/// type (an outbox's) is still read, and a damaged body is refused as unreadable.
/// </summary>
public sealed class BatchBodyTests : IAsyncLifetime
{
    private static readonly JobSpec Job = JobFile.Parse(
        """
        name: batches
        source: { type: postgres, connection: source, table: public.orders, cursor: updated_at, primary_key: [id] }
        destination: { type: postgres, connection: destination, table: public.orders, key: [id] }
        """,
        "batches.yml").Job!;

    private TestBus _bus = null!;

    public async Task InitializeAsync() => _bus = await TestBus.StartAsync("batch-body", redeliveryIntervals: "00:00:01");

    public async Task DisposeAsync() => await _bus.DisposeAsync();

    [Fact]
    public async Task A_transform_batch_arrives_with_its_rows_as_bytes_not_base64()
    {
        var batch = Batch(rows: 300_000, operations: false);
        var sent = new TransformBatch(Guid.NewGuid(), Job.Name, Guid.NewGuid(), 1, Job, batch, Fence: 3);

        await _bus.Services.GetRequiredService<IPublishEndpoint>().Publish(sent);

        var received = await _bus.Log.WaitForBatchAsync(sent.RunId, TimeSpan.FromSeconds(30));
        var message = Assert.IsType<TransformBatch>(received.Message);
        Assert.Equal(batch.Rows, message.Batch.Rows);
        Assert.Null(message.Batch.Operations);
        Assert.Equal(batch.RowCount, message.Batch.RowCount);
        Assert.Equal(batch.Columns, message.Batch.Columns);
        Assert.Equal((sent.ExtractionId, sent.BatchSeq, sent.Fence, sent.Job.Name, sent.Job.Source.Table), (message.ExtractionId, message.BatchSeq, message.Fence, message.Job.Name, message.Job.Source.Table));
        Assert.Equal(BatchBodySerializer.BatchContentType.MediaType, received.ContentType);
        // Base64 alone would be 400,000 bytes; the envelope (job, columns, headers) is a few kilobytes.
        Assert.InRange(received.BodyBytes, batch.Rows.Length, batch.Rows.Length + 16_384);
    }

    [Fact]
    public async Task A_load_batch_of_changes_arrives_with_its_rows_and_operations()
    {
        var batch = Batch(rows: 50_000, operations: true);
        var rejected = new RejectedRecord("transform", 4, "not a number", Batch(rows: 100, operations: false));
        var sent = new LoadBatch(Guid.NewGuid(), Job.Name, Guid.NewGuid(), 7, Job, batch, Failed: 1, Rejected: [rejected], Fence: 2);

        await _bus.Services.GetRequiredService<IPublishEndpoint>().Publish(sent);

        var received = await _bus.Log.WaitForBatchAsync(sent.RunId, TimeSpan.FromSeconds(30));
        var message = Assert.IsType<LoadBatch>(received.Message);
        Assert.Equal(batch.Rows, message.Batch.Rows);
        Assert.Equal(batch.Operations, message.Batch.Operations);
        var set = Assert.Single(message.Rejected!);
        Assert.Equal((rejected.Stage, rejected.RowIndex, rejected.Error), (set.Stage, set.RowIndex, set.Error));
        Assert.Equal(rejected.Record.Rows, set.Record.Rows);
        Assert.Equal((1, 7, 2L), (message.Failed, message.BatchSeq, message.Fence));
        Assert.Equal(BatchBodySerializer.BatchContentType.MediaType, received.ContentType);
    }

    [Fact]
    public async Task A_batch_redelivered_after_a_transient_failure_keeps_its_rows()
    {
        var batch = Batch(rows: 100_000, operations: true);
        var job = Job with { Name = BatchConsumer.FailOnce };
        var sent = new TransformBatch(Guid.NewGuid(), job.Name, Guid.NewGuid(), 1, job, batch);

        await _bus.Services.GetRequiredService<IPublishEndpoint>().Publish(sent);

        var received = await _bus.Log.WaitForBatchAsync(sent.RunId, TimeSpan.FromSeconds(30));
        Assert.Equal(2, received.Delivery);
        var message = Assert.IsType<TransformBatch>(received.Message);
        Assert.Equal(batch.Rows, message.Batch.Rows);
        Assert.Equal(batch.Operations, message.Batch.Operations);
    }

    [Fact]
    public void A_json_body_under_the_batch_content_type_is_read_as_json()
    {
        var sent = new TransformBatch(Guid.NewGuid(), Job.Name, Guid.NewGuid(), 1, Job, Batch(rows: 1_000, operations: true));
        var json = SystemTextJsonMessageSerializer.Instance.SerializeObject(
            new JsonMessageEnvelope { MessageId = Guid.NewGuid().ToString(), MessageType = [MessageUrn.ForTypeString<TransformBatch>()], Message = sent });

        var context = new BatchBodySerializer().Deserialize(new BytesMessageBody(json.GetBytes()), new DictionarySendHeaders());

        Assert.True(context.TryGetMessage<TransformBatch>(out var message));
        Assert.NotNull(message);
        Assert.Equal(sent.Batch.Rows, message.Batch.Rows);
        Assert.Equal(sent.Batch.Operations, message.Batch.Operations);
    }

    [Theory]
    [InlineData(12)]
    [InlineData(200)]
    [InlineData(-1)]
    public void A_damaged_batch_body_is_refused_as_unreadable(int cut)
    {
        var body = new SyncBodyOfOneBatch().Bytes;
        var damaged = cut > 0 ? body[..cut] : [.. body, 0];

        Assert.Throws<SerializationException>(() =>
            new BatchBodySerializer().Deserialize(new BytesMessageBody(damaged), new DictionarySendHeaders()));
    }

    [Fact]
    public void An_edited_envelope_keeps_the_rows_and_operations()
    {
        var body = new SyncBodyOfOneBatch().Bytes;

        var edited = BatchBodySerializer.EditEnvelope(body, json => System.Text.Encoding.UTF8.GetBytes(
            System.Text.Encoding.UTF8.GetString(json.Span).Replace("\"batchSeq\":1,", "\"batchSeq\":1000,", StringComparison.Ordinal)));

        var context = new BatchBodySerializer().Deserialize(new BytesMessageBody(body), new DictionarySendHeaders());
        var editedContext = new BatchBodySerializer().Deserialize(new BytesMessageBody(edited), new DictionarySendHeaders());
        Assert.True(context.TryGetMessage<LoadBatch>(out var original));
        Assert.True(editedContext.TryGetMessage<LoadBatch>(out var message));
        Assert.Equal(1_000, message!.BatchSeq);
        Assert.Equal(original!.Batch.Rows, message.Batch.Rows);
        Assert.Equal(original.Batch.Operations, message.Batch.Operations);
    }

    private static RecordBatch Batch(int rows, bool operations)
    {
        var bytes = new byte[rows];
        Random.Shared.NextBytes(bytes);
        var ops = operations ? Enumerable.Range(0, rows / 100).Select(i => i % 3 == 0 ? RowOperations.Delete : RowOperations.Upsert).ToArray() : null;
        return new RecordBatch([new BatchColumn("id", 20), new BatchColumn("note", 25)], rows / 100, bytes, ops);
    }

    /// <summary>A batch body as the serializer writes it for a send, taken without a broker.</summary>
    private sealed class SyncBodyOfOneBatch
    {
        public byte[] Bytes { get; } = Write();

        private static byte[] Write()
        {
            var message = new LoadBatch(Guid.NewGuid(), Job.Name, Guid.NewGuid(), 1, Job, Batch(rows: 10_000, operations: true), Failed: 0);
            var context = new MessageSendContext<LoadBatch>(message);
            return new BatchBodySerializer().GetMessageBody(context).GetBytes();
        }
    }
}
