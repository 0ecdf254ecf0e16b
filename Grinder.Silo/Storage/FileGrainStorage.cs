using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Grinder.Grains.Logging;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Grinder.Silo.Storage;

/// <summary>
/// Durable grain storage on the local file system for local mode: one JSON file per grain state,
/// written atomically (temp file, flush to disk, rename over the old file) so a crash leaves either the old or the
/// new state, never a torn one. A version number is the ETag: a writer holding a stale ETag gets
/// <see cref="InconsistentStateException"/>, as with the ADO.NET provider. The envelope also records a SHA-256 of the
/// state, so a file edited by hand (a cursor moved behind the grain's back) no longer matches its version: the next write
/// gets a conflict, and the grain re-reads and applies its monotonic rule instead of overwriting the edit unseen.
/// </summary>
/// <remarks>One silo process per data directory: the version check is serialized in-process only.</remarks>
public sealed partial class FileGrainStorage(
    string name,
    string directory,
    IGrainStorageSerializer serializer,
    IActivatorProvider activatorProvider,
    ILogger<FileGrainStorage> logger) : IGrainStorage
{
    private const string TempMarker = ".tmp-";
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);

    /// <summary>The directory this provider writes to (for health checks).</summary>
    public string Directory { get; } = Path.GetFullPath(directory);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        UnderLockAsync(PathFor(stateName, grainId), async path =>
        {
            var stored = await ReadEnvelopeAsync(path);
            if (stored is null)
            {
                grainState.State = activatorProvider.GetActivator<T>().Create();
                grainState.ETag = null;
                grainState.RecordExists = false;
                return;
            }

            grainState.State = serializer.Deserialize<T>(BinaryData.FromBytes(stored.Value.Payload));
            grainState.ETag = stored.Value.ETag;
            grainState.RecordExists = true;
        });

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        UnderLockAsync(PathFor(stateName, grainId), async path =>
        {
            var current = await ReadEnvelopeAsync(path);
            CheckETag(grainId, grainState.ETag, current?.ETag);
            var next = (current?.Version ?? 0) + 1;
            var payload = serializer.Serialize(grainState.State);
            await WriteAtomicallyAsync(path, next, payload.ToMemory());
            grainState.ETag = next.ToString(CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        });

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        UnderLockAsync(PathFor(stateName, grainId), async path =>
        {
            var current = await ReadEnvelopeAsync(path);
            CheckETag(grainId, grainState.ETag, current?.ETag);
            File.Delete(path);
            grainState.State = activatorProvider.GetActivator<T>().Create();
            grainState.ETag = null;
            grainState.RecordExists = false;
        });

    /// <summary>The file that holds one grain's state (also used by the cursor inspection helper).</summary>
    public string PathFor(string stateName, GrainId grainId) =>
        Path.Combine(Directory, name, Uri.EscapeDataString(stateName), Uri.EscapeDataString(grainId.ToString()) + ".json");

    // Read-compare-write of one file is serialized in this process so the version check and the rename are one step.
    private async Task UnderLockAsync(string path, Func<string, Task> action)
    {
        var gate = _locks.GetOrAdd(path, static _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync();
        try
        {
            await action(path);
        }
        finally
        {
            gate.Release();
        }
    }

    private void CheckETag(GrainId grainId, string? expected, string? storedText)
    {
        if (!string.Equals(expected, storedText, StringComparison.Ordinal))
        {
            LogETagConflict(logger, grainId.ToString(), expected ?? "none", storedText ?? "none");
            throw new InconsistentStateException(
                $"Version conflict writing the state of {grainId}: expected version {expected ?? "none"}, stored {storedText ?? "none"}",
                storedText ?? string.Empty,
                expected ?? string.Empty);
        }
    }

    private static async Task<(long Version, string ETag, byte[] Payload)?> ReadEnvelopeAsync(string path)
    {
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(bytes);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("version", out var version)
                || !version.TryGetInt64(out var number)
                || !root.TryGetProperty("state", out var state)
                || state.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"grain state file {path} is not a Grinder state envelope");
            }

            var payload = System.Text.Encoding.UTF8.GetBytes(state.GetRawText());
            var hash = Hash(payload);
            var intact = root.TryGetProperty("state_sha256", out var recorded) && HashMatches(recorded, hash);
            var etag = number.ToString(CultureInfo.InvariantCulture);
            return (number, intact ? etag : $"{etag}~edited-{hash[..12]}", payload);
        }
        catch (JsonException ex)
        {
            // Never fall back to an older copy silently: counters and cursor must stay the pair that was written together.
            throw new InvalidDataException($"grain state file {path} is unreadable JSON ({ex.Message})", ex);
        }
    }

    private static string Hash(ReadOnlySpan<byte> payload) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(payload));

    private static async Task WriteAtomicallyAsync(string path, long version, ReadOnlyMemory<byte> payload)
    {
        var directory = Path.GetDirectoryName(path)!;
        System.IO.Directory.CreateDirectory(directory);
        var temp = path + TempMarker + Guid.NewGuid().ToString("N");
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
            {
                await using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
                {
                    writer.WriteStartObject();
                    writer.WriteNumber("version", version);
                    writer.WriteString("written_at", DateTimeOffset.UtcNow);
                    writer.WriteString("state_sha256", Hash(payload.Span));
                    writer.WritePropertyName("state");
                    writer.WriteRawValue(payload.Span, skipInputValidation: false);
                    writer.WriteEndObject();
                }

                // Flush to the device before the rename makes it visible: a power loss must not leave an empty file.
                stream.Flush(flushToDisk: true);
            }

            // rename(2) replaces the target atomically on POSIX file systems.
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    private static bool HashMatches(JsonElement element, string hash) =>
        element.ValueKind == JsonValueKind.String && element.ValueEquals(hash);

    [LoggerMessage(EventId = LogEvents.Storage.GrainStateEtagConflict, EventName = "GRAIN_STATE_ETAG_CONFLICT", Level = LogLevel.Warning,
        Message = "Stale write of {GrainId} rejected: expected version {Expected}, stored {Stored}")]
    private static partial void LogETagConflict(ILogger logger, string grainId, string expected, string stored);
}
