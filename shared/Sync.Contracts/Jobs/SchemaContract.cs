namespace Sync.Contracts.Jobs;

/// <summary>
/// What a destination table does when a batch's columns differ from it (<c>destination.schema</c>,
/// dlt's schema contract). A table that does not exist is created under every contract.
/// </summary>
public enum SchemaContract
{
    /// <summary>New columns are added and narrower column types widened (integer→bigint, varchar(n)→text, real→double precision).</summary>
    Evolve,

    /// <summary>A batch that would change the table fails the run, naming the change.</summary>
    Freeze,

    /// <summary>Rows with a value in a column the table lacks go to the dead letters; the others load without it.</summary>
    DiscardRow,

    /// <summary>Values of columns the table lacks are dropped; the rows load.</summary>
    DiscardValue,
}
