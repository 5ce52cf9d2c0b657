namespace Sync.Contracts;

/// <summary>
/// Asks the Extractor, which holds the connections, to open connection <see cref="Connection"/> and
/// answer <see cref="ConnectionChecked"/> (<c>syncctl check</c>, issue 18 item 4).
/// </summary>
public sealed record CheckConnection(string Connection);
