namespace Grinder.Grains.Logging;

/// <summary>
/// Every log event id of the service, one nested class per area, so no two events share an id (a test checks it over the
/// service assemblies). The event name is what operators and the runbook grep for; the id is its stable number.
/// </summary>
public static class LogEvents
{
    /// <summary>Account grains: reading, recording and saving fills (1000-1099).</summary>
    public static class Ingest
    {
        /// <summary><c>FILL_CURSOR_LOADED</c>.</summary>
        public const int FillCursorLoaded = 1001;

        /// <summary><c>FILL_CURSOR_NOT_FOUND</c>.</summary>
        public const int FillCursorNotFound = 1002;

        /// <summary><c>FILL_CURSOR_LOAD_ERROR</c>.</summary>
        public const int FillCursorLoadError = 1003;

        /// <summary><c>FILL_CURSOR_SAVE_ERROR</c>.</summary>
        public const int FillCursorSaveError = 1004;

        /// <summary><c>FILL_CURSOR_REJECTED_NON_MONOTONIC</c>.</summary>
        public const int FillCursorRejectedNonMonotonic = 1005;

        /// <summary><c>FILL_PARSE_ERROR</c>.</summary>
        public const int FillParseError = 1006;

        /// <summary><c>FILLS_INGESTED</c>.</summary>
        public const int FillsIngested = 1007;

        /// <summary><c>FILL_INGEST_ERROR</c>.</summary>
        public const int FillIngestError = 1008;

        /// <summary><c>FILL_CURSOR_SAVE_CONFLICT</c>.</summary>
        public const int FillCursorSaveConflict = 1009;

        /// <summary><c>FILL_CURSOR_RESET</c>.</summary>
        public const int FillCursorReset = 1010;

        /// <summary><c>FILL_ACCOUNT_NOT_CONFIGURED</c>.</summary>
        public const int FillAccountNotConfigured = 1011;

        /// <summary><c>FILL_INGEST_ENABLED</c>.</summary>
        public const int FillIngestEnabled = 1012;

        /// <summary><c>FILL_INGEST_DISABLED</c>.</summary>
        public const int FillIngestDisabled = 1013;

        /// <summary><c>FILL_KEEPER_PING_FAILED</c>.</summary>
        public const int FillKeeperPingFailed = 1014;

        /// <summary><c>FILL_ACCOUNT_MOVING</c>.</summary>
        public const int FillAccountMoving = 1015;

        /// <summary><c>FILL_RECOVERED</c>.</summary>
        public const int FillRecovered = 1016;

        /// <summary><c>FILL_AMOUNT_MISMATCH</c>.</summary>
        public const int FillAmountMismatch = 1017;

        /// <summary><c>FILL_LEDGER_WRITE_ERROR</c>.</summary>
        public const int FillLedgerWriteError = 1018;

        /// <summary><c>FILL_LEDGER_UPGRADED</c>.</summary>
        public const int FillLedgerUpgraded = 1019;

        /// <summary><c>FILL_FETCH_UNEXPECTED</c>.</summary>
        public const int FillFetchUnexpected = 1020;

        /// <summary><c>FILL_STREAM_DELIVERY_FAILED</c>.</summary>
        public const int FillStreamDeliveryFailed = 1021;

        /// <summary><c>FILL_PARSE_ERRORS_NOT_LOGGED</c>.</summary>
        public const int FillParseErrorsNotLogged = 1022;
    }

    /// <summary>The metrics grain (1100-1199).</summary>
    public static class Metrics
    {
        /// <summary><c>FILL_METRICS_FLUSH_ERROR</c>.</summary>
        public const int FillMetricsFlushError = 1101;

        /// <summary><c>FILL_METRICS_REBUILD_MISS</c>.</summary>
        public const int FillMetricsRebuildMiss = 1102;
    }

    /// <summary>Grain state storage and the PostgreSQL schema (2000-2099).</summary>
    public static class Storage
    {
        /// <summary><c>GRAIN_STATE_ETAG_CONFLICT</c>.</summary>
        public const int GrainStateEtagConflict = 2001;

        /// <summary><c>SCHEMA_WAITING_FOR_DATABASE</c>.</summary>
        public const int SchemaWaitingForDatabase = 2011;

        /// <summary><c>SCHEMA_SCRIPT_APPLIED</c>.</summary>
        public const int SchemaScriptApplied = 2012;

        /// <summary><c>SCHEMA_CURRENT</c>.</summary>
        public const int SchemaCurrent = 2013;

        /// <summary><c>SCHEMA_SCRIPT_UNKNOWN</c>.</summary>
        public const int SchemaScriptUnknown = 2014;
    }

    /// <summary>The fill ledger stores (2100-2199).</summary>
    public static class Ledger
    {
        /// <summary><c>LEDGER_OPENED</c>.</summary>
        public const int LedgerOpened = 2101;

        /// <summary><c>LEDGER_LEGACY_IMPORTED</c>.</summary>
        public const int LedgerLegacyImported = 2102;

        /// <summary><c>LEDGER_DEADLOCK_RETRY</c>.</summary>
        public const int LedgerDeadlockRetry = 2103;
    }

    /// <summary>HTTP endpoints and their access guard (3000-3099).</summary>
    public static class Http
    {
        /// <summary><c>ADMIN_ACCESS_REFUSED</c>.</summary>
        public const int AdminAccessRefused = 3001;
    }

    /// <summary>The Binance REST client, its weight governor and the userTrades reader (3100-3299).</summary>
    public static class Binance
    {
        /// <summary><c>BINANCE_RATE_LIMITED</c>.</summary>
        public const int BinanceRateLimited = 3101;

        /// <summary><c>BINANCE_WEIGHT_WAIT</c>.</summary>
        public const int BinanceWeightWait = 3102;

        /// <summary><c>BINANCE_CLOCK_RESYNC</c>.</summary>
        public const int BinanceClockResync = 3103;

        /// <summary><c>BINANCE_REQUEST_FAILED</c>.</summary>
        public const int BinanceRequestFailed = 3104;

        /// <summary><c>BINANCE_PAGE_INVALID</c>.</summary>
        public const int BinancePageInvalid = 3203;

        /// <summary><c>BINANCE_FETCH_UNEXPECTED</c>.</summary>
        public const int BinanceFetchUnexpected = 3204;
    }

    /// <summary>The user data stream connection (3300-3399).</summary>
    public static class Stream
    {
        /// <summary><c>STREAM_CONNECTED</c>.</summary>
        public const int StreamConnected = 3301;

        /// <summary><c>STREAM_DISCONNECTED</c>.</summary>
        public const int StreamDisconnected = 3302;

        /// <summary><c>STREAM_CONNECT_FAILED</c>.</summary>
        public const int StreamConnectFailed = 3303;

        /// <summary><c>STREAM_LISTEN_KEY_FAILED</c>.</summary>
        public const int StreamListenKeyFailed = 3304;

        /// <summary><c>STREAM_LISTEN_KEY_EXPIRED</c>.</summary>
        public const int StreamListenKeyExpired = 3305;

        /// <summary><c>STREAM_UNEXPECTED</c>.</summary>
        public const int StreamUnexpected = 3306;
    }

    /// <summary>Silo hosting: demo mode and timed runs (4000-4099).</summary>
    public static class Hosting
    {
        /// <summary><c>RUN_DURATION_ELAPSED</c>.</summary>
        public const int RunDurationElapsed = 4001;

        /// <summary><c>METRICS_OUT_WRITTEN</c>.</summary>
        public const int MetricsOutWritten = 4002;

        /// <summary><c>METRICS_OUT_FAILED</c>.</summary>
        public const int MetricsOutFailed = 4003;

        /// <summary><c>DEMO_EXCHANGE</c>.</summary>
        public const int DemoExchange = 4010;
    }
}
