namespace Sync.Sdk;

/// <summary>Registers an <see cref="ISyncSink"/> under the name a job file uses: <c>destination: { type: code, name: name }</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class SyncSinkAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}
