namespace Grinder.Grains;

/// <summary>Per-symbol detail for <c>/healthz</c>.</summary>
[GenerateSerializer, Immutable]
public sealed record SymbolHealth(
    [property: Id(0)] string Symbol,
    [property: Id(1)] long? LastTradeId,
    [property: Id(2)] long LastTsMs,
    [property: Id(3)] long ReadHighWaterId,
    [property: Id(4)] bool Bootstrapping,
    [property: Id(5)] long? LastPollMs,
    [property: Id(6)] string? LastError,
    [property: Id(7)] int QuarantinedRows,
    [property: Id(8)] long? LastRescanMs = null,
    [property: Id(9)] long? LastRestReadMs = null);

/// <summary>Per-account detail for <c>/healthz</c> (the place for account and symbol detail, never metric labels).</summary>
/// <param name="LoadError">Why stored state (or the ledger's totals) could not be read; while set the account does not poll.</param>
/// <param name="FillsCounted">Fills in the ledger's totals of this account.</param>
/// <param name="LastLedgerError">Why the last ledger write failed, while it fails (read positions wait for it).</param>
[GenerateSerializer, Immutable]
public sealed record AccountHealth(
    [property: Id(0)] string AccountId,
    [property: Id(1)] string Source,
    [property: Id(2)] bool Polling,
    [property: Id(3)] long? LastPollMs,
    [property: Id(4)] string? LastErrorReason,
    [property: Id(5)] string? LoadError,
    [property: Id(6)] long? LastSaveMs,
    [property: Id(7)] long Polls,
    [property: Id(8)] IReadOnlyList<SymbolHealth> Symbols,
    [property: Id(9)] IReadOnlyList<QuarantinedRow> Quarantine,
    [property: Id(10)] IReadOnlyDictionary<string, decimal> FeesByAsset,
    [property: Id(11)] IReadOnlyDictionary<string, decimal> RebatesByAsset,
    [property: Id(12)] long FillsCounted,
    [property: Id(13)] string? LastSaveError,
    [property: Id(14)] long FillsRecovered = 0,
    [property: Id(15)] string? LastLedgerError = null,
    [property: Id(16)] StreamHealth? Stream = null,
    [property: Id(17)] double? ReconcileRoundSeconds = null);

/// <summary>The account's user data stream for <c>/healthz</c> (never its listenKey).</summary>
/// <param name="State"><c>off</c>, <c>stopped</c>, <c>connecting</c>, <c>connected</c> or <c>backoff</c>.</param>
[GenerateSerializer, Immutable]
public sealed record StreamHealth(
    [property: Id(0)] string State,
    [property: Id(1)] long? ConnectedSinceMs,
    [property: Id(2)] long? LastEventMs,
    [property: Id(3)] long Reconnects,
    [property: Id(4)] string? LastError);
