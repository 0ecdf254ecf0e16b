using System.Collections.Concurrent;
using System.Globalization;
using Grinder.Grains.Binance;
using Grinder.Grains.Binance.Stream;
using Grinder.Grains.Ledger;
using Grinder.Grains.Metrics;
using Grinder.Grains.Placement;
using Grinder.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime.Placement;
using Orleans.Storage;

namespace Grinder.Grains.Ingest;

/// <summary>
/// One account's fill ingest: a thin shell of timer, I/O and placement over <see cref="ReadPositions"/>,
/// <see cref="Quarantine"/> and the <see cref="IFillLedger"/>. Each tick reads every symbol from its read position,
/// records the fills in the ledger (which counts each once, by its key), re-scans recently active symbols by time window,
/// and then saves the read positions and health counters in one ETag-checked write, even when nothing new arrived or the
/// exchange failed (runbook quiet-market semantics). A position only moves after the ledger holds the rows it passes.
/// State is read through the storage provider directly rather than <c>[PersistentState]</c>: an unreadable state must not
/// fail the activation, so that the account can report the load error in <c>/healthz</c> and metrics and retry, instead of
/// silently restarting. Placed on its rendezvous owner (<see cref="AccountPlacementAttribute"/>); after a tick on another
/// silo it migrates there, between two saved polls.
/// With the user data stream on, the activation also owns the account's stream connection (it lives where the grain lives
/// and follows it when it moves): pushed fills go to the same ledger under the same key, and REST becomes reconciliation,
/// scheduled within the silo's weight budget (<see cref="ReconcileSchedule"/>): accounts whose stream is down poll every
/// tick, backfill and the re-scan come next, reconciliation reads only with weight to spare.
/// </summary>
[AccountPlacement]
public sealed class FillIngestGrain(
    [FromKeyedServices(GrinderStorage.Name)] IGrainStorage storage,
    IFillLedger ledger,
    IUserTradesFetcher fetcher,
    IAccountDirectory accounts,
    IAccountPlacement placement,
    IOptions<IngestOptions> options,
    IOptions<BinanceOptions> binance,
    IOptions<StreamOptions> streamOptions,
    UserDataStreamConnectionFactory streams,
    ReconcileSchedule schedule,
    BinanceWeightGovernor governor,
    TimeProvider time,
    ILogger<FillIngestGrain> logger) : Grain, IFillIngestGrain, IFillStreamSink
{
    /// <summary>Most stream fills held for a retry while the ledger fails; beyond it REST reconciliation brings them.</summary>
    private const int MaxPendingStreamFills = 100_000;

    /// <summary>Most newly quarantined rows logged one by one per poll; the rest are logged as a count.</summary>
    private const int MaxLoggedRejects = 20;

    private const string StateName = "ingest";
    // The snapshot version of a saved state: its save count at the scale of versions that also counted the reports between
    // saves, so that a metrics state persisted by such a version still orders against new reports.
    private const long VersionPerSave = 1_000_000;

    private readonly Dictionary<string, (long? PollMs, ErrorReason? Error)> _symbolRuntime = new(StringComparer.Ordinal);
    private readonly HashSet<string> _exemptSymbols = new(StringComparer.Ordinal);
    private GrainState<FillIngestState> _stored = new(new FillIngestState());
    private FillIngestState _working = new() { LedgerFormat = 1 };
    private AccountTotals _totals = AccountTotals.Empty;
    private RecentFills? _recent;
    private ConfiguredAccount? _account;
    private IGrainTimer? _timer;
    private IFillMetricsGrain? _metrics;
    private SiloAddress? _movingTo;
    private bool _loaded;
    private string? _loadError;
    private readonly string _activationId = Guid.NewGuid().ToString("N");
    private readonly UnsavedCounts _unsaved = new();
    private readonly List<UnconfirmedSave> _unconfirmed = [];
    private long _saveAttempts;
    private long _reportSequence;
    private long? _lastPollMs;
    private ErrorReason? _lastErrorReason;
    private string? _lastSaveError;
    private string? _lastLedgerError;
    private readonly ConcurrentQueue<UserDataStreamEvent> _streamInbox = new();
    private readonly List<ParsedTrade> _pendingStreamFills = [];
    private readonly Dictionary<string, long> _lastRestReadMs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _moreToRead = new(StringComparer.Ordinal);
    private UserDataStreamConnection? _stream;
    private CancellationTokenSource? _streamStop;
    private Task? _streamPump;
    private bool _reconcileAll = true;

    // Reads before this moment do not count for the read of every symbol after a (re)connect.
    private long _reconcileAllFromMs;
    private TimeSpan? _reconcileRound;

    private string AccountId => ConfiguredAccount.AccountIdFromGrainKey(this.GetPrimaryKeyString());

    private IngestOptions Options => options.Value;

    private FillSource Source => _account?.Source ?? FillSource.Reconcile;

    // Resolved once: GetGrain looks the interface type up by reflection on every call (seen in the fan-out profile).
    private IFillMetricsGrain Metrics => _metrics ??= GrainFactory.GetGrain<IFillMetricsGrain>(0);

    private RecentFills Recent => _recent ??= new RecentFills(Options.RescanWindow + Options.RescanInterval);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _account = accounts.Find(AccountId);
        if (_account is null)
        {
            IngestLog.AccountNotConfigured(logger, this.GetPrimaryKeyString());
            return;
        }

        await TryLoadAsync(cancellationToken);
        if (Options.Enabled)
        {
            // Spread first polls over one interval so many accounts do not hit the exchange in the same instant.
            var due = TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * Math.Min(Options.PollInterval.TotalMilliseconds, 1000));
            _timer = this.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions(due, Options.PollInterval) { KeepAlive = true });
            if (streamOptions.Value.Enabled)
            {
                StartStream();
            }
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Closing the connection never DELETEs the listenKey (it is shared with the customer's own bots); the activation that
        // takes over POSTs and gets the same active key.
        schedule.Report(AccountId, 0);
        await StopStreamAsync();
        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    /// <summary>Takes the stream events queued so far: one ledger append for all their fills, then a snapshot to the metrics.</summary>
    public async Task DrainStreamAsync()
    {
        // Until the state is loaded (and a pre-ledger state's counters are in the ledger) the events wait in the inbox:
        // an append before that import would count fills the previous version had counted already.
        if (_account is null || !_loaded)
        {
            return;
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var fills = new List<ParsedTrade>(_pendingStreamFills);
        _pendingStreamFills.Clear();
        var rejected = new List<RejectedRow>();
        while (_streamInbox.TryDequeue(out var item))
        {
            switch (item)
            {
                case StreamFill fill:
                    fills.Add(fill.Trade);
                    break;
                case StreamRejected bad:
                    rejected.Add(bad.Row);
                    break;
                case StreamConnected connected when !connected.Renewal:
                    // Events may have been missed while no connection was open: every symbol is read by REST again, from the
                    // next tick on, as the budget allows.
                    _reconcileAll = true;
                    _reconcileAllFromMs = now;
                    break;
            }
        }

        if (rejected.Count > 0)
        {
            QuarantineRows(rejected, now);
            _unsaved.StreamEvent(StreamEventResult.Rejected, rejected.Count);
        }

        var unseen = Recent.Unseen(fills);
        _unsaved.StreamEvent(StreamEventResult.Duplicate, fills.Count - unseen.Count);
        if (unseen.Count > 0)
        {
            using var deadline = new CancellationTokenSource(Options.TickDeadline);
            if (await RecordAsync(FillFeeder.Stream, unseen, now, deadline.Token) is { } recorded)
            {
                _unsaved.StreamEvent(StreamEventResult.Recorded, recorded.Inserted.Count);
                _unsaved.StreamEvent(StreamEventResult.Duplicate, unseen.Count - recorded.Inserted.Count);
                LogIngested(recorded, unseen, _working.Symbols);
            }
            else if (_pendingStreamFills.Count + unseen.Count <= MaxPendingStreamFills)
            {
                _pendingStreamFills.AddRange(unseen);
            }
        }

        if (fills.Count > 0 || rejected.Count > 0)
        {
            await ReportAsync();
        }
    }

    private void StartStream()
    {
        var connection = streams.Create(AccountId, _account!.Credentials);
        var stop = new CancellationTokenSource();
        var self = this.AsReference<IFillStreamSink>();
        connection.Start();
        _stream = connection;
        _streamStop = stop;
        _streamPump = Task.Run(() => PumpAsync(connection, self, stop.Token));
    }

    private async Task StopStreamAsync()
    {
        if (_stream is not { } connection)
        {
            return;
        }

        _stream = null;
        await _streamStop!.CancelAsync();
        await connection.DisposeAsync();
        try
        {
            await _streamPump!.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            // The pump only forwards events; once stopped it makes no further call.
        }

        _streamStop.Dispose();
    }

    // Off the grain's scheduler: moves events into the inbox and asks the grain (a normal, non-reentrant call) to take them.
    // While the grain is busy, events accumulate, so a burst becomes one ledger append.
    private async Task PumpAsync(UserDataStreamConnection connection, IFillStreamSink self, CancellationToken cancellationToken)
    {
        try
        {
            while (await connection.Events.WaitToReadAsync(cancellationToken))
            {
                while (connection.Events.TryRead(out var item))
                {
                    _streamInbox.Enqueue(item);
                }

                try
                {
                    await self.DrainStreamAsync().WaitAsync(cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    IngestLog.StreamDeliveryFailed(logger, AccountId, ex);
                    await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Deactivation.
        }
    }

    private bool StreamHealthy => _stream?.Health.State == UserDataStreamState.Connected;

    public Task EnsurePollingAsync() => Task.CompletedTask;

    public async Task PollNowAsync()
    {
        if (_account is null || !Options.Enabled)
        {
            return;
        }

        using var deadline = new CancellationTokenSource(Options.TickDeadline);
        await TickAsync(deadline.Token);
    }

    public async Task ResetCursorAsync(string? symbol, DateTimeOffset? from)
    {
        if (_account is null)
        {
            throw new InvalidOperationException($"account {AccountId} is not configured on this cluster");
        }

        if (!_loaded)
        {
            throw new InvalidOperationException(
                $"account {AccountId}: stored state is unreadable ({_loadError}); delete the stored record (scripts/fill_cursor.sh delete) to start over");
        }

        var targets = symbol is null ? _account.Symbols : _account.Symbols.Where(s => s == symbol.ToUpperInvariant()).ToList();
        if (targets.Count == 0)
        {
            throw new ArgumentException($"account {AccountId} has no symbol {symbol}", nameof(symbol));
        }

        var fromMs = (from ?? time.GetUtcNow() - Options.BootstrapLookback).ToUnixTimeMilliseconds();
        foreach (var target in targets)
        {
            // Only the read position goes back: the ledger keeps every fill, so the re-read ones are not counted again.
            var cursor = _working.Symbols.GetValueOrDefault(target) ?? SymbolCursor.Fresh(fromMs);
            _working.Symbols[target] = cursor with { LastTradeId = null, LastTsMs = 0, BootstrapFromMs = fromMs, ResumeInclusive = false };
            _exemptSymbols.Add(target);
            // A backlog now: read next tick even while the stream is healthy, not only at the next reconciliation round.
            _moreToRead.Add(target);
            IngestLog.CursorReset(logger, AccountId, target, fromMs);
        }

        using var deadline = new CancellationTokenSource(Options.TickDeadline);
        await SaveAsync(deadline.Token);
        await ReportAsync();
    }

    public Task<AccountHealth> GetHealthAsync()
    {
        var symbols = (_account?.Symbols ?? _working.Symbols.Keys.ToList())
            .Select(symbol =>
            {
                var cursor = _working.Symbols.GetValueOrDefault(symbol);
                var runtime = _symbolRuntime.GetValueOrDefault(symbol);
                return new SymbolHealth(
                    symbol,
                    cursor?.LastTradeId,
                    cursor?.LastTsMs ?? 0,
                    cursor?.ReadHighWaterId ?? -1,
                    cursor?.LastTradeId is null,
                    runtime.PollMs,
                    runtime.Error?.Label(),
                    Quarantine.CountFor(_working, symbol),
                    cursor?.LastRescanMs,
                    _lastRestReadMs.TryGetValue(symbol, out var restMs) ? restMs : null);
            })
            .ToList();
        return Task.FromResult(new AccountHealth(
            AccountId,
            Source.Label(),
            IsPolling,
            _lastPollMs,
            _lastErrorReason?.Label(),
            _loadError,
            _working.LastSaveMs,
            _working.Polls + _unsaved.Polls,
            symbols,
            Quarantine.Rows(_working),
            _totals.ByAsset.Where(pair => pair.Value.Fees != 0).ToDictionary(pair => pair.Key, pair => pair.Value.Fees, StringComparer.Ordinal),
            _totals.ByAsset.Where(pair => pair.Value.Rebates != 0).ToDictionary(pair => pair.Key, pair => pair.Value.Rebates, StringComparer.Ordinal),
            _totals.Count,
            _lastSaveError,
            _totals.Recovered,
            _lastLedgerError,
            StreamHealthOf(_stream?.Health),
            _reconcileRound?.TotalSeconds));
    }

    public Task<AccountSnapshot> GetSnapshotAsync() => Task.FromResult(Snapshot());

    private StreamHealth? StreamHealthOf(UserDataStreamHealth? health) => health is null
        ? (streamOptions.Value.Enabled && Options.Enabled ? null : new StreamHealth("off", null, null, 0, null))
        : new StreamHealth(
            health.State.ToString().ToLowerInvariant(),
            health.ConnectedSince?.ToUnixTimeMilliseconds(),
            health.LastMessageAt?.ToUnixTimeMilliseconds(),
            health.Reconnects,
            health.LastError);

    private bool IsPolling => _account is not null && Options.Enabled && _loaded;

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        // Every await below runs under this deadline: a hung tick would stop the Orleans timer forever.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Options.TickDeadline);
        if (!_loaded)
        {
            await TryLoadAsync(deadline.Token);
            if (!_loaded)
            {
                return;
            }
        }

        await PollAsync(deadline.Token);
        MoveToOwnerIfElsewhere();
    }

    /// <summary>
    /// Moves when <see cref="AccountMove"/> says so. Migration waits until this activation is idle; the owner goes along as
    /// placement hint, so the director does not pick anew from a different view of the cluster.
    /// </summary>
    private void MoveToOwnerIfElsewhere()
    {
        if (AccountMove.Target(_lastSaveError is not null, _stored.State?.Symbols, _working.Symbols, placement.OwnerOf(this.GetGrainId()), GrainContext.Address.SiloAddress)
            is not { } owner)
        {
            _movingTo = null;
            return;
        }

        if (!owner.Equals(_movingTo))
        {
            _movingTo = owner;
            IngestLog.AccountMoving(logger, AccountId, owner.ToString());
        }

        RequestContext.Set(IPlacementDirector.PlacementHintKey, owner);
        try
        {
            MigrateOnIdle();
        }
        finally
        {
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        }
    }

    private async Task TryLoadAsync(CancellationToken cancellationToken)
    {
        var fresh = new GrainState<FillIngestState>(new FillIngestState());
        AccountTotals ledgerTotals;
        try
        {
            await storage.ReadStateAsync(StateName, this.GetGrainId(), fresh).WaitAsync(Options.TickDeadline, cancellationToken);
            var state = fresh.State ?? new FillIngestState();
            if (!fresh.RecordExists)
            {
                state.LedgerFormat = 1;
            }

            ledgerTotals = ReadPositions.IsPreLedger(state)
                ? await ledger.ImportLegacyAsync(ReadPositions.LegacyImportOf(state, AccountId, Source.Label()), cancellationToken).WaitAsync(Options.TickDeadline, cancellationToken)
                : await ledger.GetTotalsAsync(AccountId, cancellationToken).WaitAsync(Options.TickDeadline, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Counted in this activation's pending counts (and reported with them) until a save of it carries them.
            _unsaved.Load(CursorResult.Error);
            _unsaved.Error(ErrorReason.Cursor);
            _loadError = $"{ex.GetType().Name}: {ex.Message}";
            IngestLog.CursorLoadError(logger, AccountId, _loadError, ex);
            await ReportAsync();
            return;
        }

        _stored = fresh;
        _working = Clone(fresh.State ?? new FillIngestState());
        _totals = ledgerTotals;
        if (fresh.RecordExists)
        {
            _unsaved.Load(CursorResult.Ok);
            IngestLog.CursorLoaded(logger, AccountId, _working.Symbols.Count, _working.SaveCount);
        }
        else
        {
            _working.LedgerFormat = 1;
            IngestLog.CursorNotFound(logger, AccountId, Options.BootstrapLookback.TotalDays);
        }

        if (ReadPositions.IsPreLedger(_working))
        {
            // Its counters are in the ledger now (idempotent, so a crash before the next save only repeats a no-op); the
            // history is read again so the ledger lists those fills too, as pre-ledger rows that are not counted twice.
            var rereadFrom = time.GetUtcNow() - Options.BootstrapLookback;
            ReadPositions.CompleteLegacyImport(_working, rereadFrom.ToUnixTimeMilliseconds());
            _exemptSymbols.UnionWith(_working.Symbols.Keys);
            _moreToRead.UnionWith(_working.Symbols.Keys);
            IngestLog.LedgerUpgraded(logger, AccountId, _totals.Count, _working.Symbols.Count, rereadFrom);
        }

        _loaded = true;
        _loadError = null;
    }

    private async Task PollAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        _lastErrorReason = null;
        var advanced = new Dictionary<string, SymbolCursor>(StringComparer.Ordinal);
        var polled = new List<ParsedTrade>();
        var rescanned = new List<ParsedTrade>();
        var rescannedSymbols = new List<string>();
        var streaming = StreamHealthy;
        var settings = streamOptions.Value;
        schedule.Report(AccountId, streaming ? _account!.Symbols.Count : 0);
        _reconcileRound = streaming ? schedule.CurrentRound(governor.Budget, settings) : null;
        var readAll = !streaming || _reconcileAll;
        var allRead = true;

        // New reads start only in the first half of the tick's deadline, so what was read still gets recorded and saved in
        // time; symbols not started go first next tick (least recently read first), so a budget that binds rotates over
        // every pair instead of starving the last symbols of every account.
        var startReadsUntil = time.GetUtcNow() + (Options.TickDeadline / 2);
        foreach (var symbol in _account!.Symbols.OrderBy(symbol => _lastRestReadMs.GetValueOrDefault(symbol)))
        {
            if (time.GetUtcNow() > startReadsUntil)
            {
                allRead = false;
                break;
            }

            var cursor = _working.Symbols.GetValueOrDefault(symbol) ?? SymbolCursor.Fresh(now - (long)Options.BootstrapLookback.TotalMilliseconds);

            // REST by priority: without a healthy stream every symbol every tick; with one, the read of every symbol after a
            // (re)connect and a backlog (more to read) next, then reconciliation once per round, each only while the silo's budget
            // has room for it. With a healthy stream no read may wait for weight: the tick holds the grain's turn, and the
            // account's stream events would wait behind it until the next minute (seen at 1,000 pairs: stream p99 of 60 s).
            var unreadSinceConnect = readAll && streaming
                && (!_lastRestReadMs.TryGetValue(symbol, out var readAtMs) || readAtMs < _reconcileAllFromMs);
            var due = (readAll && !streaming)
                || (unreadSinceConnect || _moreToRead.Contains(symbol)
                    ? governor.HasHeadroom(ReconcileSchedule.ReadWeight, settings.RescanShare)
                    : ReconcileSchedule.Urgency(now - _lastRestReadMs.GetValueOrDefault(symbol), _reconcileRound!.Value) switch
                    {
                        ReconcileUrgency.Due => governor.HasPacedHeadroom(ReconcileSchedule.ReadWeight, settings.ReconcileShare, Options.PollInterval),
                        ReconcileUrgency.Overdue => governor.HasHeadroom(ReconcileSchedule.ReadWeight, settings.RescanShare),
                        _ => false,
                    });
            if (!due)
            {
                // A read-all that found no room goes on at a later tick with the symbols not read since the connect.
                allRead &= !unreadSinceConnect;
                continue;
            }

            // While streaming, every read but a backlog's is a window read that is also the symbol's re-scan (one read, not
            // two: a separate re-scan after each read that moved the position doubled the weight of a round).
            var reconcileWindow = streaming && !_moreToRead.Contains(symbol) && cursor.IsOwnPosition
                ? ReadPositions.ReconcileWindow(cursor, now, _lastRestReadMs.GetValueOrDefault(symbol, now), Options.RescanWindow, binance.Value.BootstrapWindow)
                : null;
            var result = reconcileWindow is null ? await FetchAsync(symbol, cursor, cancellationToken) : await RescanAsync(symbol, reconcileWindow, cancellationToken);
            var symbolError = Absorb(symbol, result, now);
            if (reconcileWindow is null)
            {
                polled.AddRange(Recent.Unseen(result.Trades));
                advanced[symbol] = ReadPositions.Advance(cursor, result, now);
            }
            else
            {
                // Rows above the position are the read's own; rows at or below it are what a re-scan recovers.
                polled.AddRange(Recent.Unseen(ReadPositions.Above(cursor, result.Trades)));
                advanced[symbol] = ReadPositions.AdvanceByWindow(cursor, result, binance.Value.PageLimit, now);
                if (result.Error is null)
                {
                    rescanned.AddRange(ReadPositions.PassedBy(cursor, result.Trades));
                    rescannedSymbols.Add(symbol);
                }
            }

            if (result.Error is null)
            {
                _lastRestReadMs[symbol] = now;
            }
            else
            {
                allRead = false;
            }

            if (reconcileWindow is null ? HasMoreToRead(result.Next, now) : advanced[symbol].ResumeInclusive)
            {
                _moreToRead.Add(symbol);
            }
            else
            {
                _moreToRead.Remove(symbol);
            }

            // The separate re-scan only without a healthy stream: with one, the symbol's next window read covers it.
            if (!streaming
                && !cancellationToken.IsCancellationRequested
                && ReadPositions.RescanDue(advanced[symbol], now, Options.RescanInterval, Options.RescanWindow) is { } window)
            {
                var rescan = await RescanAsync(symbol, window, cancellationToken);
                symbolError ??= Absorb(symbol, rescan, now);
                if (rescan.Error is null)
                {
                    // Only rows the read position has passed can have been missed; rows above it (a backlog the poll's page
                    // limit left for the next tick) are the poll's to read, not recoveries.
                    rescanned.AddRange(ReadPositions.PassedBy(advanced[symbol], rescan.Trades));
                    rescannedSymbols.Add(symbol);
                }
            }

            _lastErrorReason = symbolError ?? _lastErrorReason;
            _symbolRuntime[symbol] = (now, symbolError);
            if (cancellationToken.IsCancellationRequested)
            {
                allRead = false;
                break;
            }
        }

        if (readAll && allRead)
        {
            _reconcileAll = false;
        }

        if (_pendingStreamFills.Count > 0 || !_streamInbox.IsEmpty)
        {
            // Stream fills whose append failed earlier, or that arrived before the state was loaded.
            await DrainStreamAsync();
        }

        // Positions move only once the ledger holds the rows they pass; a ledger failure keeps them (re-read next tick).
        // Recorded under a deadline of its own: the tick's may be spent by slow reads, and what they read must not be lost.
        if (await RecordAsync(FillFeeder.Poll, polled, now, CancellationToken.None) is { } recorded)
        {
            foreach (var (symbol, cursor) in advanced)
            {
                _working.Symbols[symbol] = cursor;
            }

            LogIngested(recorded, polled, advanced);
        }

        // Filtered only now: rows this tick's poll just recorded are not sent (nor counted as mismatches) twice.
        if (rescannedSymbols.Count > 0 && await RecordAsync(FillFeeder.Rescan, Recent.Unseen(rescanned), now, CancellationToken.None) is { } recovered)
        {
            // Only where the position is held: a symbol whose first read failed to record is not marked (it is read again).
            foreach (var symbol in rescannedSymbols)
            {
                if (_working.Symbols.TryGetValue(symbol, out var held))
                {
                    _working.Symbols[symbol] = held with { LastRescanMs = now };
                }
            }

            foreach (var key in recovered.Inserted)
            {
                IngestLog.FillRecovered(logger, AccountId, key.Symbol, key.TradeId, key.Side == FillSide.Buy ? "BUY" : "SELL");
            }
        }

        _unsaved.Poll();
        _working.UpdatedAtMs = now;
        _lastPollMs = now;

        // Save on every poll, quiet or failed: cursor age stays fresh and progress is never held only in memory for long.
        using var saveDeadline = new CancellationTokenSource(Options.TickDeadline);
        await SaveAsync(saveDeadline.Token);
        await ReportAsync();
    }

    // Quarantines new bad rows and counts the fetch's error; returns the symbol's error reason for /healthz.
    private ErrorReason? Absorb(string symbol, FetchResult result, long nowMs)
    {
        var added = QuarantineRows(result.Rejected, nowMs);
        if (result.Error is { } reason)
        {
            var counted = ErrorReasons.Of(reason);
            _unsaved.Error(counted);
            IngestLog.IngestError(logger, AccountId, symbol, counted.Label(), result.ErrorDetail ?? string.Empty);
            return counted;
        }

        return added > 0 ? ErrorReason.Parse : null;
    }

    // A row enters the quarantine (and the parse error count, and the log) once, whichever feeder brought it.
    private int QuarantineRows(IReadOnlyList<RejectedRow> rows, long nowMs)
    {
        var added = Quarantine.Add(_working, rows, Options.QuarantineLimit, nowMs, _unsaved);

        // Row by row up to a bound, so a page of 1,000 bad rows does not flood the log; the raw row is never logged.
        foreach (var row in added.Take(MaxLoggedRejects))
        {
            IngestLog.ParseError(logger, AccountId, row.Symbol, row.TradeId?.ToString(CultureInfo.InvariantCulture) ?? "unknown", row.Reason);
        }

        if (added.Count > MaxLoggedRejects)
        {
            IngestLog.ParseErrorsNotLogged(logger, AccountId, added.Count - MaxLoggedRejects);
        }

        return added.Count;
    }

    /// <summary>Records <paramref name="trades"/> in the ledger; null when the ledger failed. No trades: no round trip.</summary>
    private async Task<LedgerAppendResult?> RecordAsync(FillFeeder feeder, List<ParsedTrade> trades, long nowMs, CancellationToken cancellationToken)
    {
        if (trades.Count == 0)
        {
            return new LedgerAppendResult([], [], [], _totals);
        }

        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(Options.TickDeadline);
            var result = await ledger.AppendAsync(new LedgerBatch(AccountId, Source.Label(), feeder, nowMs, trades), deadline.Token)
                .WaitAsync(Options.TickDeadline, cancellationToken);
            _totals = result.Totals;
            _lastLedgerError = null;
            Recent.Remember(trades, nowMs);
            _unsaved.StreamEvent(StreamEventResult.Mismatch, feeder == FillFeeder.Stream ? result.Mismatched.Count : 0);
            _unsaved.Mismatches(result.Mismatched.Count);
            foreach (var key in result.Mismatched)
            {
                IngestLog.FillMismatch(logger, AccountId, key.Symbol, key.TradeId, key.Side == FillSide.Buy ? "BUY" : "SELL", feeder.ToString());
            }

            return result;
        }
        catch (Exception ex)
        {
            // Storage down or the tick's deadline: the positions stay where they were, so these rows are read again.
            _lastLedgerError = ex is OperationCanceledException ? "deadline reached while writing the ledger" : $"{ex.GetType().Name}: {ex.Message}";
            _unsaved.Error(ErrorReason.Cursor);
            _lastErrorReason = ErrorReason.Cursor;
            IngestLog.LedgerWriteError(logger, AccountId, trades.Count, ex);
            return null;
        }
    }

    private void LogIngested(LedgerAppendResult recorded, List<ParsedTrade> polled, Dictionary<string, SymbolCursor> advanced)
    {
        if (polled.Count == 0)
        {
            return;
        }

        foreach (var group in polled.GroupBy(trade => trade.Symbol, StringComparer.Ordinal))
        {
            var inserted = recorded.Inserted.Count(key => key.Symbol == group.Key);
            IngestLog.FillsIngested(logger, AccountId, group.Key, inserted, group.Count() - inserted, advanced.GetValueOrDefault(group.Key)?.LastTradeId);
        }
    }

    // A full last page, or bootstrap windows not yet caught up with now: the symbol has a backlog.
    private bool HasMoreToRead(FetchPosition next, long nowMs) =>
        next.ResumeInclusive
        || (next.LastTradeId is null && next.BootstrapFromMs is { } from && from + (long)binance.Value.BootstrapWindow.TotalMilliseconds < nowMs);

    private async Task<FetchResult> FetchAsync(string symbol, SymbolCursor cursor, CancellationToken cancellationToken)
    {
        var position = new FetchPosition(cursor.LastTradeId, cursor.LastTsMs, cursor.BootstrapFromMs, cursor.ResumeInclusive);
        if (cancellationToken.IsCancellationRequested)
        {
            return Failed(position, BinanceFailureKind.Http, "tick deadline reached before this symbol");
        }

        try
        {
            return await fetcher.FetchAsync(_account!.Credentials, new FetchRequest(symbol, position, binance.Value.MaxPagesPerPoll), cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Failed(position, BinanceFailureKind.Http, "tick deadline reached while reading the exchange");
        }
        catch (Exception ex)
        {
            // The fetcher reports exchange faults itself; anything else is a bug we count rather than crash on.
            IngestLog.FetchUnexpected(logger, AccountId, symbol, ex);
            return Failed(position, BinanceFailureKind.Unexpected, $"{ex.GetType().Name}: {ex.Message}");
        }
    }

    private async Task<FetchResult> RescanAsync(string symbol, RescanWindow window, CancellationToken cancellationToken)
    {
        var none = new FetchPosition(null, 0, null, false);
        try
        {
            return await fetcher.FetchWindowAsync(_account!.Credentials, new WindowRequest(symbol, window.StartMs, window.EndMs, binance.Value.MaxPagesPerPoll), cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Failed(none, BinanceFailureKind.Http, "tick deadline reached while re-scanning");
        }
        catch (Exception ex)
        {
            IngestLog.FetchUnexpected(logger, AccountId, symbol, ex);
            return Failed(none, BinanceFailureKind.Unexpected, $"{ex.GetType().Name}: {ex.Message}");
        }
    }

    private static FetchResult Failed(FetchPosition position, BinanceFailureKind reason, string detail) =>
        new([], [], position, reason, detail, 0);

    /// <summary>
    /// Writes the read positions with the stored counters plus this activation's pending counts, and marks the fold in the
    /// same write; on success exactly the written counts leave the pending ones. A save whose outcome is unknown (an error
    /// after the write may have reached the store) is remembered until a re-read shows whether its fold mark is there.
    /// </summary>
    private async Task SaveAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var candidate = Clone(_working);
        var rejected = ReadPositions.ApplyMonotonicRule(candidate, _stored.State ?? new FillIngestState(), _exemptSymbols);
        foreach (var rejection in rejected)
        {
            IngestLog.CursorRejected(logger, AccountId, rejection.Symbol, FormatKey(rejection.ExistingKey), FormatKey(rejection.NewKey));
            _symbolRuntime[rejection.Symbol] = (_symbolRuntime.GetValueOrDefault(rejection.Symbol).PollMs, ErrorReason.Cursor);
        }

        // This save's own result counts only if it is written, so it goes with the write rather than into the pending counts.
        var ownResult = new UnsavedCounts();
        ownResult.Save(CursorResult.RejectedNonMonotonic, rejected.Count);
        ownResult.Save(CursorResult.Ok);
        var pending = _unsaved.Current();
        var epoch = ++_saveAttempts;
        UnsavedCounts.Fold(candidate, pending.Add(ownResult.Current()), _activationId, epoch);
        candidate.SaveCount++;
        candidate.LastSaveMs = now;
        candidate.UpdatedAtMs = now;

        var attempt = new GrainState<FillIngestState>(candidate) { ETag = _stored.ETag, RecordExists = _stored.RecordExists };
        var outcome = await StateWrite.WriteAsync(storage, StateName, this.GetGrainId(), attempt, Options.TickDeadline, cancellationToken);
        if (outcome.Result == StateWriteResult.Conflict)
        {
            AdoptStoredState(outcome.Stored!);
            return;
        }

        if (outcome.Error is { } ex)
        {
            // Nothing is lost: the fills are in the ledger, the positions in memory; the next poll saves them.
            _lastSaveError = (outcome.ConflictFirst ? "conflict, then re-read failed: " : string.Empty) + $"{ex.GetType().Name}: {ex.Message}";
            _unsaved.Save(CursorResult.Error);
            _unsaved.Save(CursorResult.RejectedNonMonotonic, outcome.ConflictFirst ? 0 : rejected.Count);
            if (outcome.ConflictFirst)
            {
                IngestLog.SaveConflict(logger, AccountId);
            }
            else
            {
                // Had it been written after all, it carried the pending counts and these rejections.
                var written = new UnsavedCounts();
                written.Save(CursorResult.RejectedNonMonotonic, rejected.Count);
                _unconfirmed.Add(new UnconfirmedSave(epoch, pending.Add(written.Current()), [.. candidate.Quarantine]));
            }

            IngestLog.CursorSaveError(logger, AccountId, _lastSaveError, ex);
            return;
        }

        _unsaved.Remove(pending);
        _unconfirmed.Clear();
        _stored = attempt;
        _exemptSymbols.Clear();
        _lastSaveError = null;

        // Memory keeps its own read positions (they may be behind a rejected stored one); everything else is as saved.
        var positions = _working.Symbols;
        _working = Clone(candidate);
        foreach (var (symbol, cursor) in positions)
        {
            _working.Symbols[symbol] = cursor;
        }
    }

    /// <summary>
    /// The stored state changed under this activation (a second activation during failover, an edit behind our back, or a
    /// save of ours that failed only on the way back). Never retry blindly: re-read it, adopt its health counters (ours stay
    /// pending, less whatever a save of ours that did land carried), take a position another activation stored when it is
    /// ahead (the ledger holds what it passed), keep reading from our own where the stored one was moved by hand, and let
    /// the next save apply the monotonic rule against it.
    /// </summary>
    private void AdoptStoredState(GrainState<FillIngestState> fresh)
    {
        IngestLog.SaveConflict(logger, AccountId);
        var adopted = Clone(fresh.State ?? new FillIngestState());
        adopted.LedgerFormat = 1;
        IReadOnlyList<QuarantinedRow> written = _stored.State?.Quarantine ?? [];
        var mark = adopted.FoldedPending.LastOrDefault(fold => fold.ActivationId == _activationId)?.Epoch ?? 0;
        if (_unconfirmed.LastOrDefault(save => save.Epoch <= mark) is { } landed)
        {
            _unsaved.Remove(landed.Written);
            written = landed.Quarantine;
        }

        _unconfirmed.RemoveAll(save => save.Epoch <= mark);
        Quarantine.Merge(adopted, _working.Quarantine, written, Options.QuarantineLimit, _unsaved);
        foreach (var symbol in ReadPositions.Reconcile(adopted, _working.Symbols))
        {
            _symbolRuntime[symbol] = (_symbolRuntime.GetValueOrDefault(symbol).PollMs, ErrorReason.Cursor);
        }

        // An operator reset still pending (not yet saved) stays exempt; the stored state is the new baseline.
        _stored = fresh;
        _working = adopted;
    }

    /// <summary>The saved counters (as of <c>_stored</c>, which <c>_working</c>'s mirror) plus this activation's pending part.</summary>
    private AccountSnapshot Snapshot()
    {
        var pending = new PendingCounters(_activationId, _saveAttempts + 1, ++_reportSequence, _unsaved.Current());
        var counted = UnsavedCounts.SavedIn(_working).Add(pending.Counters);
        return new AccountSnapshot(
            AccountId,
            Source,
            _working.SaveCount * VersionPerSave,
            FillBuckets(),
            counted.Polls,
            counted.Errors,
            counted.CursorLoads,
            counted.CursorSaves,
            _working.LastSaveMs,
            IsPolling,
            _totals.Recovered,
            StreamHealthy,
            _stream is not null,
            counted.StreamEvents,
            counted.AmountMismatches,
            pending,
            [.. _working.FoldedPending]);
    }

    // The fill counters are the ledger's totals, per (side, liquidity) under the account's source.
    private Dictionary<FillBucket, FillTotals> FillBuckets()
    {
        var buckets = new Dictionary<FillBucket, FillTotals>();
        foreach (var (bucket, value) in _totals.Buckets)
        {
            var key = new FillBucket(bucket.Side, bucket.Liquidity);
            buckets[key] = buckets.GetValueOrDefault(key, FillTotals.Zero).Add(value);
        }

        return buckets;
    }

    private async Task ReportAsync()
    {
        try
        {
            await Metrics.ReportAsync(Snapshot()).WaitAsync(Options.TickDeadline);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            // The next poll reports again with absolute values; nothing accumulates here.
            _lastErrorReason ??= ErrorReason.Unknown;
        }
    }

    private static string FormatKey((long TradeId, long TsMs) key) =>
        string.Create(CultureInfo.InvariantCulture, $"({key.TradeId}, {key.TsMs})");

    private static FillIngestState Clone(FillIngestState source) => new()
    {
        Symbols = new Dictionary<string, SymbolCursor>(source.Symbols, StringComparer.Ordinal),
        Fills = new Dictionary<string, FillTotals>(source.Fills, StringComparer.Ordinal),
        Polls = source.Polls,
        Errors = new Dictionary<ErrorReason, long>(source.Errors),
        CursorLoads = new Dictionary<CursorResult, long>(source.CursorLoads),
        CursorSaves = new Dictionary<CursorResult, long>(source.CursorSaves),
        UpdatedAtMs = source.UpdatedAtMs,
        LastSaveMs = source.LastSaveMs,
        Quarantine = [.. source.Quarantine],
        QuarantineDropped = [.. source.QuarantineDropped],
        SaveCount = source.SaveCount,
        FeesByAsset = new Dictionary<string, decimal>(source.FeesByAsset, StringComparer.Ordinal),
        RebatesByAsset = new Dictionary<string, decimal>(source.RebatesByAsset, StringComparer.Ordinal),
        LedgerFormat = source.LedgerFormat,
        StreamEvents = new Dictionary<StreamEventResult, long>(source.StreamEvents),
        AmountMismatches = source.AmountMismatches,
        FoldedPending = [.. source.FoldedPending],
    };

    /// <summary>A save that failed with an error: had it reached the store after all, it carried <paramref name="Written"/>.</summary>
    private sealed record UnconfirmedSave(long Epoch, HealthCounters Written, IReadOnlyList<QuarantinedRow> Quarantine);
}
