namespace Sync.Contracts.Jobs;

/// <summary>What happens to a destination row whose key the source no longer has (<c>destination.deletes</c>).</summary>
public enum DeleteMode
{
    /// <summary>The row stays as it was.</summary>
    Keep,

    /// <summary>The row is deleted.</summary>
    Delete,

    /// <summary>The row stays, with <see cref="DestinationSpec.SoftDeleteColumn"/> set to the time it was found gone.</summary>
    SoftDelete,
}
