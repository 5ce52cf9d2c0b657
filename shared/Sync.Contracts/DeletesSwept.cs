namespace Sync.Contracts;

/// <summary>
/// The Loader swept a full-refresh run: <see cref="Deleted"/> rows were deleted or soft-deleted.
/// <see cref="Superseded"/>: a later run had loaded into the destination, so nothing was touched.
/// </summary>
public sealed record DeletesSwept(Guid RunId, string JobName, long Deleted, bool Superseded = false);
