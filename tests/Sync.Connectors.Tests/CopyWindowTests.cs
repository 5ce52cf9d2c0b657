using Sync.Connectors.Postgres.Cdc;
using Sync.Contracts;

namespace Sync.Connectors.Tests;

/// <summary>
/// Which of a chunk's rows go out at its high watermark (<see cref="CopyWindow"/>): those no
/// transaction unseen by the chunk's read changed, and of a row such a change left columns out of,
/// those columns alone. Snapshot 100:105:102 sees transactions below 100, and 100–104 but 102.
/// </summary>
public sealed class CopyWindowTests
{
    private static readonly BatchColumn?[] Whole = [new("id", 20), new("qty", 23), new("body", 25)];
    private static readonly CopySnapshot Snapshot = CopySnapshot.Parse("100:105:102");

    [Fact]
    public void A_snapshot_sees_what_committed_before_it_and_not_what_was_in_progress_or_later()
    {
        Assert.Equal([true, true, false, false, false], new uint[] { 99, 101, 102, 105, 200 }.Select(Snapshot.Sees));
        // A 32-bit id of the epoch before xmax's, just below 2^32.
        Assert.True(CopySnapshot.Parse("4294967400:4294967410:").Sees(4294967290));
    }

    [Fact]
    public void Rows_changed_only_by_transactions_the_read_saw_go_out_and_others_are_left_to_the_stream()
    {
        var window = new CopyWindow();
        window.Note(Transaction(101, Upsert(1, Whole)));
        window.Note(Transaction(102, Upsert(2, Whole)));
        window.Note(Transaction(106, Delete(3)));

        var emitted = window.Emit(Chunk(Row(1), Row(2), Row(3), Row(4)));

        Assert.Equal([Hex(1), Hex(4)], emitted.Select(r => r.Key));
        Assert.All(emitted, r => Assert.True(r.IsWhole));
        // The window starts again after each high watermark.
        Assert.Equal(4, window.Emit(Chunk(Row(1), Row(2), Row(3), Row(4))).Count);
    }

    [Fact]
    public void A_row_an_unseen_update_left_a_large_value_out_of_gets_that_value_from_the_chunk()
    {
        var window = new CopyWindow();
        window.Note(Transaction(103, Upsert(1, Whole)));
        window.Note(Transaction(104, Upsert(2, Whole)));
        window.Note(Transaction(106, Upsert(2, [Whole[0], Whole[1], null])));

        var emitted = Assert.Single(window.Emit(Chunk(Row(1), Row(2))), r => r.Key == "0000000000000002|");

        Assert.Equal(["id", null, "body"], emitted.Shape.Select(c => c?.Name));
        Assert.Equal(Row(2).Values[2], emitted.Values[2]);
    }

    [Fact]
    public void An_unseen_delete_or_truncate_keeps_the_chunks_row_out()
    {
        var deleted = new CopyWindow();
        deleted.Note(Transaction(106, Delete(1)));
        deleted.Note(Transaction(107, Upsert(1, [Whole[0], Whole[1], null])));
        Assert.Empty(deleted.Emit(Chunk(Row(1))));

        var truncated = new CopyWindow();
        truncated.Note(new SourceTransaction([new RowTruncated(new byte[]?[3], Whole)], default, default, 106));
        Assert.Empty(truncated.Emit(Chunk(Row(1), Row(2))));
    }

    private static CopyChunk Chunk(params RowUpserted[] rows) => new("m", Snapshot, rows, null);

    private static SourceTransaction Transaction(uint xid, RowChange change) => new([change], default, default, xid);

    private static RowUpserted Row(long id) => new([Key(id), [0, 0, 0, 1], [(byte)'x', (byte)id]], Hex(id), Whole);

    private static RowUpserted Upsert(long id, BatchColumn?[] shape) => new([Key(id), [0, 0, 0, 2], shape[2] is null ? null : [(byte)'y']], Hex(id), shape);

    private static RowDeleted Delete(long id) => new([Key(id), null, null], Hex(id), Whole);

    private static byte[] Key(long id)
    {
        var bytes = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(bytes, id);
        return bytes;
    }

    private static string Hex(long id) => Convert.ToHexString(Key(id)) + "|";
}
