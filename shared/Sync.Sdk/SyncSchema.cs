namespace Sync.Sdk;

/// <summary>The type of a column as a transform sees it; <see cref="Other"/> values travel unchanged but cannot be read or set.</summary>
public enum SyncType
{
    Other,
    Boolean,
    Int16,
    Int32,
    Int64,
    Numeric,
    Double,
    Text,
    Date,
    Timestamp,
    TimestampTz,
    Uuid,
}

public sealed record SyncColumn(string Name, SyncType Type);

/// <summary>The columns of the records a transform receives; <see cref="ISyncTransform.DescribeOutput"/> may change it.</summary>
public sealed class SyncSchema
{
    private readonly List<SyncColumn> _columns;

    public SyncSchema(IEnumerable<SyncColumn> columns) => _columns = [.. columns];

    public IReadOnlyList<SyncColumn> Columns => _columns;

    public int IndexOf(string name) => _columns.FindIndex(c => c.Name == name);

    public bool Contains(string name) => IndexOf(name) >= 0;

    /// <summary>Adds a column (null in every record until set); a column of that name must not exist yet.</summary>
    public SyncSchema Add(string name, SyncType type)
    {
        if (Contains(name))
        {
            throw new ArgumentException($"The schema already has a column \"{name}\".", nameof(name));
        }

        if (type == SyncType.Other)
        {
            throw new ArgumentException("A transform cannot add a column of type Other.", nameof(type));
        }

        _columns.Add(new SyncColumn(name, type));
        return this;
    }

    public SyncSchema Remove(string name)
    {
        var index = IndexOf(name);
        if (index < 0)
        {
            throw new ArgumentException($"The schema has no column \"{name}\".", nameof(name));
        }

        _columns.RemoveAt(index);
        return this;
    }
}
