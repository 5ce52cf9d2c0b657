namespace Sync.Sdk;

/// <summary>Registers an <see cref="ISyncTransform"/> under the name a job file uses: <c>transform: { code: name }</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class SyncTransformAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}
