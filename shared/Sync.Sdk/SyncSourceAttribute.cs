namespace Sync.Sdk;

/// <summary>Registers an <see cref="ISyncSource"/> under the name a job file uses: <c>source: { type: code, name: name }</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class SyncSourceAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}
