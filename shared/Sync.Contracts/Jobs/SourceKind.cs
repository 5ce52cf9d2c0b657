using System.Text.Json.Serialization;

namespace Sync.Contracts.Jobs;

/// <summary>
/// What a job reads (<c>source.type</c>). Carried in messages as the job file's word ("postgres"),
/// as it was when the kind was a string, so messages in flight across an upgrade still read.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<SourceKind>))]
public enum SourceKind
{
    [JsonStringEnumMemberName("postgres")]
    Postgres,

    [JsonStringEnumMemberName("http")]
    Http,

    [JsonStringEnumMemberName("files")]
    Files,

    [JsonStringEnumMemberName("code")]
    Code,
}
