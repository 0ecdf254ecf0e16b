using Grinder.Grains.Logging;
using Microsoft.Extensions.Logging;

namespace Grinder.Grains.Ingest;

/// <summary>Ingest log events (the runbook greps for their names). Structured, with event names; never a secret, signature or signed query.</summary>
internal static partial class IngestLog
{
    [LoggerMessage(EventId = LogEvents.Ingest.FillCursorLoaded, EventName = "FILL_CURSOR_LOADED", Level = LogLevel.Information,
        Message = "FILL_CURSOR_LOADED account={AccountId} symbols={Symbols} saves={SaveCount}")]
    public static partial void CursorLoaded(ILogger logger, string accountId, int symbols, long saveCount);

    [LoggerMessage(EventId = LogEvents.Ingest.FillCursorNotFound, EventName = "FILL_CURSOR_NOT_FOUND", Level = LogLevel.Information,
        Message = "FILL_CURSOR_NOT_FOUND account={AccountId}: first start, bootstrapping from {LookbackDays} days back")]
    public static partial void CursorNotFound(ILogger logger, string accountId, double lookbackDays);

    [LoggerMessage(EventId = LogEvents.Ingest.FillCursorLoadError, EventName = "FILL_CURSOR_LOAD_ERROR", Level = LogLevel.Error,
        Message = "FILL_CURSOR_LOAD_ERROR account={AccountId}: {Reason}. Not polling until the state is readable or reset.")]
    public static partial void CursorLoadError(ILogger logger, string accountId, string reason, Exception exception);

    [LoggerMessage(EventId = LogEvents.Ingest.FillCursorSaveError, EventName = "FILL_CURSOR_SAVE_ERROR", Level = LogLevel.Error,
        Message = "FILL_CURSOR_SAVE_ERROR account={AccountId}: {Reason}. Progress kept in memory; the next poll saves again.")]
    public static partial void CursorSaveError(ILogger logger, string accountId, string reason, Exception exception);

    [LoggerMessage(EventId = LogEvents.Ingest.FillCursorRejectedNonMonotonic, EventName = "FILL_CURSOR_REJECTED_NON_MONOTONIC", Level = LogLevel.Warning,
        Message = "FILL_CURSOR_REJECTED_NON_MONOTONIC account={AccountId} symbol={Symbol} existing_key={ExistingKey} new_key={NewKey}: stored cursor kept")]
    public static partial void CursorRejected(ILogger logger, string accountId, string symbol, string existingKey, string newKey);

    [LoggerMessage(EventId = LogEvents.Ingest.FillParseError, EventName = "FILL_PARSE_ERROR", Level = LogLevel.Warning,
        Message = "FILL_PARSE_ERROR account={AccountId} symbol={Symbol} trade_id={TradeId}: {Reason}")]
    public static partial void ParseError(ILogger logger, string accountId, string symbol, string tradeId, string reason);

    [LoggerMessage(EventId = LogEvents.Ingest.FillParseErrorsNotLogged, EventName = "FILL_PARSE_ERRORS_NOT_LOGGED", Level = LogLevel.Warning,
        Message = "FILL_PARSE_ERRORS_NOT_LOGGED account={AccountId}: {Count} more rows quarantined in this poll, not logged one by one")]
    public static partial void ParseErrorsNotLogged(ILogger logger, string accountId, int count);

    [LoggerMessage(EventId = LogEvents.Ingest.FillsIngested, EventName = "FILLS_INGESTED", Level = LogLevel.Information,
        Message = "FILLS_INGESTED account={AccountId} symbol={Symbol} counted={Counted} duplicates={Duplicates} last_trade_id={LastTradeId}")]
    public static partial void FillsIngested(ILogger logger, string accountId, string symbol, int counted, int duplicates, long? lastTradeId);

    [LoggerMessage(EventId = LogEvents.Ingest.FillIngestError, EventName = "FILL_INGEST_ERROR", Level = LogLevel.Warning,
        Message = "FILL_INGEST_ERROR account={AccountId} symbol={Symbol} reason={Reason}: {Detail}")]
    public static partial void IngestError(ILogger logger, string accountId, string symbol, string reason, string detail);

    [LoggerMessage(EventId = LogEvents.Ingest.FillCursorSaveConflict, EventName = "FILL_CURSOR_SAVE_CONFLICT", Level = LogLevel.Warning,
        Message = "FILL_CURSOR_SAVE_CONFLICT account={AccountId}: stored state changed under this activation; re-read it and adopted it")]
    public static partial void SaveConflict(ILogger logger, string accountId);

    [LoggerMessage(EventId = LogEvents.Ingest.FillCursorReset, EventName = "FILL_CURSOR_RESET", Level = LogLevel.Warning,
        Message = "FILL_CURSOR_RESET account={AccountId} symbol={Symbol} from={FromMs}: trades will be re-read; the ledger keeps them, none is counted twice")]
    public static partial void CursorReset(ILogger logger, string accountId, string symbol, long fromMs);

    [LoggerMessage(EventId = LogEvents.Ingest.FillAccountNotConfigured, EventName = "FILL_ACCOUNT_NOT_CONFIGURED", Level = LogLevel.Warning,
        Message = "FILL_ACCOUNT_NOT_CONFIGURED grain={GrainKey}: no such account in this silo's configuration; not polling")]
    public static partial void AccountNotConfigured(ILogger logger, string grainKey);

    [LoggerMessage(EventId = LogEvents.Ingest.FillIngestEnabled, EventName = "FILL_INGEST_ENABLED", Level = LogLevel.Information,
        Message = "Fill ingestion ENABLED ({Accounts} account(s): {AccountList}; poll every {Interval})")]
    public static partial void IngestEnabled(ILogger logger, int accounts, string accountList, TimeSpan interval);

    [LoggerMessage(EventId = LogEvents.Ingest.FillIngestDisabled, EventName = "FILL_INGEST_DISABLED", Level = LogLevel.Information,
        Message = "Fill ingestion DISABLED (set FILL_INGEST_ENABLED=1 to enable)")]
    public static partial void IngestDisabled(ILogger logger);

    [LoggerMessage(EventId = LogEvents.Ingest.FillKeeperPingFailed, EventName = "FILL_KEEPER_PING_FAILED", Level = LogLevel.Warning,
        Message = "Keeper could not reach account {AccountId}: {Reason}")]
    public static partial void KeeperPingFailed(ILogger logger, string accountId, string reason);

    [LoggerMessage(EventId = LogEvents.Ingest.FillAccountMoving, EventName = "FILL_ACCOUNT_MOVING", Level = LogLevel.Information,
        Message = "FILL_ACCOUNT_MOVING account={AccountId}: its owner in the cluster is now silo {Owner}; migrating there after the saved poll")]
    public static partial void AccountMoving(ILogger logger, string accountId, string owner);

    [LoggerMessage(EventId = LogEvents.Ingest.FillRecovered, EventName = "FILL_RECOVERED", Level = LogLevel.Warning,
        Message = "FILL_RECOVERED account={AccountId} symbol={Symbol} trade_id={TradeId} side={Side}: found by the trailing re-scan, missed by the primary read; counted now")]
    public static partial void FillRecovered(ILogger logger, string accountId, string symbol, long tradeId, string side);

    [LoggerMessage(EventId = LogEvents.Ingest.FillAmountMismatch, EventName = "FILL_AMOUNT_MISMATCH", Level = LogLevel.Warning,
        Message = "FILL_AMOUNT_MISMATCH account={AccountId} symbol={Symbol} trade_id={TradeId} side={Side} feeder={Feeder}: amounts differ from the recorded fill; the first-seen values stay")]
    public static partial void FillMismatch(ILogger logger, string accountId, string symbol, long tradeId, string side, string feeder);

    [LoggerMessage(EventId = LogEvents.Ingest.FillLedgerWriteError, EventName = "FILL_LEDGER_WRITE_ERROR", Level = LogLevel.Error,
        Message = "FILL_LEDGER_WRITE_ERROR account={AccountId}: {Rows} fills not recorded; read positions stay, they are read again next poll")]
    public static partial void LedgerWriteError(ILogger logger, string accountId, int rows, Exception exception);

    [LoggerMessage(EventId = LogEvents.Ingest.FillLedgerUpgraded, EventName = "FILL_LEDGER_UPGRADED", Level = LogLevel.Warning,
        Message = "FILL_LEDGER_UPGRADED account={AccountId}: counters of the previous version carried into the ledger ({Fills} fills); {Symbols} symbols re-read from {RereadFrom} to list them, none counted twice")]
    public static partial void LedgerUpgraded(ILogger logger, string accountId, long fills, int symbols, DateTimeOffset rereadFrom);

    [LoggerMessage(EventId = LogEvents.Ingest.FillFetchUnexpected, EventName = "FILL_FETCH_UNEXPECTED", Level = LogLevel.Error,
        Message = "FILL_FETCH_UNEXPECTED account={AccountId} symbol={Symbol}: unexpected failure while reading the exchange; counted as reason=unknown")]
    public static partial void FetchUnexpected(ILogger logger, string accountId, string symbol, Exception exception);

    [LoggerMessage(EventId = LogEvents.Ingest.FillStreamDeliveryFailed, EventName = "FILL_STREAM_DELIVERY_FAILED", Level = LogLevel.Warning,
        Message = "FILL_STREAM_DELIVERY_FAILED account={AccountId}: stream events could not be handed to the account; retrying (REST reconciles meanwhile)")]
    public static partial void StreamDeliveryFailed(ILogger logger, string accountId, Exception exception);
}
