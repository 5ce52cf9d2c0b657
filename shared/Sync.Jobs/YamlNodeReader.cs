using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Sync.Jobs;

/// <summary>
/// Reads one YAML mapping of a job file: reports unknown keys on construction, then hands out typed values,
/// reporting missing keys and wrong shapes (a list where one value belongs, …) with their paths and positions.
/// </summary>
internal sealed class YamlNodeReader
{
    private readonly Dictionary<string, (YamlScalarNode Key, YamlNode Value)> _entries = new(StringComparer.Ordinal);
    private readonly string _path;
    private readonly Mark _location;
    private readonly JobFileErrors _errors;

    public YamlNodeReader(YamlMappingNode mapping, string path, Mark location, JobFileErrors errors, IReadOnlyList<string> knownKeys)
    {
        _path = path;
        _location = location;
        _errors = errors;
        foreach (var (key, value) in mapping.Children)
        {
            if (key is not YamlScalarNode { Value: { } name } scalarKey)
            {
                errors.Add(key.Start, path, "keys must be plain names", $"use one of: {string.Join(", ", knownKeys)}");
            }
            else if (!knownKeys.Contains(name, StringComparer.Ordinal))
            {
                var closest = Suggestions.Closest(name, knownKeys);
                errors.Add(
                    key.Start,
                    FieldOf(name),
                    $"unknown key {ValueText.Show(name)}",
                    closest is null ? $"use one of: {string.Join(", ", knownKeys)}" : $"rename {name} to {closest}");
            }
            else
            {
                _entries[name] = (scalarKey, value);
            }
        }
    }

    /// <summary>True when the key is present with a value other than null.</summary>
    public bool Has(string key) => _entries.TryGetValue(key, out var entry) && !IsNull(entry.Value);

    /// <summary>True when the key holds an empty list, <c>[]</c>.</summary>
    public bool IsEmptyList(string key) => _entries.TryGetValue(key, out var entry) && entry.Value is YamlSequenceNode { Children.Count: 0 };

    public string FieldOf(string key) => _path.Length == 0 ? key : $"{_path}.{key}";

    /// <summary>Where the key sits, or where this mapping starts when it is absent.</summary>
    public Mark KeyMark(string key) => _entries.TryGetValue(key, out var entry) ? entry.Key.Start : _location;

    public YamlScalar? Scalar(string key, string example, bool required = false)
    {
        var value = Value(key, example, required);
        return value is null ? null : AsScalar(value, FieldOf(key), key, example);
    }

    public YamlNodeReader? Mapping(string key, IReadOnlyList<string> knownKeys, bool required = false)
    {
        var value = Value(key, $"followed by {string.Join(", ", knownKeys)} on indented lines", required);
        if (value is YamlMappingNode mapping)
        {
            return new YamlNodeReader(mapping, FieldOf(key), _entries[key].Key.Start, _errors, knownKeys);
        }

        if (value is not null)
        {
            _errors.Add(
                value.Start,
                FieldOf(key),
                $"must be a mapping of keys ({string.Join(", ", knownKeys)}), not {Describe(value)}",
                $"indent the keys under {key}: on the lines below it");
        }

        return null;
    }

    /// <summary>A list of scalars; a single scalar counts as a list of one.</summary>
    public IReadOnlyList<YamlScalar>? ScalarList(string key, string example, bool required = false)
    {
        var value = Value(key, $"[{example}]", required);
        var field = FieldOf(key);
        switch (value)
        {
            case null:
                return null;
            case YamlSequenceNode { Children.Count: 0 }:
                _errors.Add(value.Start, field, "must list at least one column", $"write {key}: [{example}]");
                return null;
            case YamlSequenceNode sequence:
                var items = new List<YamlScalar>();
                for (var i = 0; i < sequence.Children.Count; i++)
                {
                    var item = sequence.Children[i];
                    if (IsNull(item))
                    {
                        _errors.Add(item.Start, $"{field}[{i}]", "is empty", $"remove the empty entry or write a column name like {example}");
                    }
                    else if (AsScalar(item, $"{field}[{i}]", key, example) is { } scalar)
                    {
                        items.Add(scalar);
                    }
                }

                return items;
            default:
                return AsScalar(value, field, key, example) is { } single ? [single] : null;
        }
    }

    /// <summary>A list of mappings of <paramref name="knownKeys"/>, e.g. <c>depends_on:</c>; an entry of another shape is reported and left out.</summary>
    public IReadOnlyList<YamlNodeReader>? MappingList(string key, IReadOnlyList<string> knownKeys, string example, bool required = false)
    {
        var value = Value(key, example, required);
        var field = FieldOf(key);
        if (value is null)
        {
            return null;
        }

        if (value is not YamlSequenceNode { Children.Count: > 0 } sequence)
        {
            _errors.Add(value.Start, field, $"must be a list of mappings ({string.Join(", ", knownKeys)}), not {(value is YamlSequenceNode ? "an empty list" : Describe(value))}", $"write one \"- {example}\" per line under {key}:");
            return null;
        }

        var items = new List<YamlNodeReader>();
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            if (sequence.Children[i] is YamlMappingNode mapping)
            {
                items.Add(new YamlNodeReader(mapping, $"{field}[{i}]", mapping.Start, _errors, knownKeys));
            }
            else
            {
                _errors.Add(sequence.Children[i].Start, $"{field}[{i}]", $"must be a mapping ({string.Join(", ", knownKeys)}), not {Describe(sequence.Children[i])}", $"write it as - {example}");
            }
        }

        return items;
    }

    /// <summary>
    /// A list whose entries are single values or mappings of <paramref name="knownKeys"/>, e.g. <c>streams:</c>
    /// (<c>- public.*</c> or <c>- table: public.orders</c> with options); an empty entry is reported and left out.
    /// </summary>
    public IReadOnlyList<(YamlScalar? Value, YamlNodeReader? Options, Mark At, string Field)>? MixedList(string key, IReadOnlyList<string> knownKeys, string example, bool required = false)
    {
        var value = Value(key, example, required);
        var field = FieldOf(key);
        if (value is null)
        {
            return null;
        }

        if (value is not YamlSequenceNode { Children.Count: > 0 } sequence)
        {
            _errors.Add(value.Start, field, $"must be a list, not {(value is YamlSequenceNode ? "an empty list" : Describe(value))}", $"write one \"- {example}\" per line under {key}:");
            return null;
        }

        var items = new List<(YamlScalar?, YamlNodeReader?, Mark, string)>();
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            var item = sequence.Children[i];
            var itemField = $"{field}[{i}]";
            if (item is YamlMappingNode mapping)
            {
                items.Add((null, new YamlNodeReader(mapping, itemField, mapping.Start, _errors, knownKeys), mapping.Start, itemField));
            }
            else if (IsNull(item))
            {
                _errors.Add(item.Start, itemField, "is empty", $"remove the empty entry or write - {example}");
            }
            else if (AsScalar(item, itemField, key, example) is { } scalar)
            {
                items.Add((scalar, null, item.Start, itemField));
            }
        }

        return items;
    }

    /// <summary>
    /// The entries of a mapping whose keys are free names (such as <c>columns</c>), in file order. A value is a
    /// scalar, or a mapping of <paramref name="valueKeys"/> whose first key holds the value and whose others are
    /// options (e.g. <c>{ source: code, cast: integer }</c>); without <paramref name="valueKeys"/> only scalars.
    /// A mapping holding one of <paramref name="alternativeValueKeys"/> instead (e.g. <c>{ expr: "…" }</c>) takes its value from that key.
    /// </summary>
    public IReadOnlyList<(YamlScalar Key, YamlScalar Value, YamlNodeReader? Options)>? Pairs(
        string key, string example, IReadOnlyList<string>? valueKeys = null, IReadOnlyList<string>? alternativeValueKeys = null)
    {
        var value = Value(key, example, required: false);
        var field = FieldOf(key);
        if (value is not YamlMappingNode mapping)
        {
            if (value is not null)
            {
                _errors.Add(value.Start, field, $"must be a mapping, not {Describe(value)}", $"write one \"{example}\" per line under {key}:");
            }

            return null;
        }

        var pairs = new List<(YamlScalar, YamlScalar, YamlNodeReader?)>();
        foreach (var (k, v) in mapping.Children)
        {
            if (k is not YamlScalarNode { Value: { } name })
            {
                _errors.Add(k.Start, field, "keys must be plain names", $"write one \"{example}\" per line under {key}:");
                continue;
            }

            var entryField = $"{field}.{name}";
            var target = new YamlScalar(name, entryField, k.Start);
            if (IsNull(v))
            {
                _errors.Add(v.Start, entryField, "has no value", $"write {name}: <source column>, e.g. {name}: {name}");
            }
            else if (v is YamlMappingNode options && valueKeys is { Count: > 0 })
            {
                var reader = new YamlNodeReader(options, entryField, v.Start, _errors, valueKeys);
                var valueKey = alternativeValueKeys?.FirstOrDefault(reader.Has) is { } alternative && !reader.Has(valueKeys[0]) ? alternative : valueKeys[0];
                if (reader.Scalar(valueKey, name, required: true) is { } sourceValue)
                {
                    pairs.Add((target, sourceValue, reader));
                }
            }
            else if (AsScalar(v, entryField, name, name) is { } source)
            {
                pairs.Add((target, source, null));
            }
        }

        return pairs;
    }

    private YamlNode? Value(string key, string example, bool required)
    {
        if (_entries.TryGetValue(key, out var entry) && !IsNull(entry.Value))
        {
            return entry.Value;
        }

        if (required)
        {
            var under = _path.Length == 0 ? "" : $" under {_path}:";
            _errors.Add(_entries.TryGetValue(key, out entry) ? entry.Value.Start : _location, FieldOf(key), "is required", $"add {key}: {example}{under}");
        }

        return null;
    }

    private YamlScalar? AsScalar(YamlNode node, string field, string key, string example)
    {
        if (node is YamlScalarNode { Value: { } value })
        {
            return new YamlScalar(value, field, node.Start);
        }

        _errors.Add(node.Start, field, $"must be a single value, not {Describe(node)}", $"write it on one line, e.g. {key}: {example}");
        return null;
    }

    // YAML's null: an empty value, ~ or null (unquoted).
    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    private static string Describe(YamlNode node) => node switch
    {
        YamlSequenceNode => "a list",
        YamlMappingNode => "a mapping",
        _ => "a single value",
    };
}
