using System.Globalization;
using Grinder.Grains.Binance;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime.Placement;
using Orleans.Storage;

namespace Grinder.Grains.Ingest;

/// <summary>
/// One account's fill ingest (design.md §3). Polls every symbol on a grain timer, counts new fills exactly once and
/// saves cursors and counters in one ETag-checked write on every poll, even when nothing new arrived or the exchange
/// failed (runbook quiet-market semantics). State is read through the storage provider directly rather than
/// <c>[PersistentState]</c>: an unreadable state must not fail the activation, so that the account can report the
/// load error in <c>/healthz</c> and metrics and retry, instead of silently restarting from zero. Placed on its
/// rendezvous owner (<see cref="AccountPlacementAttribute"/>); after a tick on another silo (one joined, or the grain was
/// re-activated elsewhere while its owner was down) it migrates there, between two saved polls.
/// </summary>
[AccountPlacement]
public sealed class FillIngestGrain(
    [FromKeyedServices(GrinderStorage.Name)] IGrainStorage storage,
    IUserTradesFetcher fetcher,
    IAccountDirectory accounts,
    IAccountPlacement placement,
    IOptions<IngestOptions> options,
    IOptions<BinanceOptions> binance,
    TimeProvider time,
    ILogger<FillIngestGrain> logger) : Grain, IFillIngestGrain
{
    private const string StateName = "ingest";
    private const long ReportsPerSave = 1_000_000;

    private readonly Dictionary<string, (long? PollMs, string? Error)> symbolRuntime = new(StringComparer.Ordinal);
    private readonly HashSet<string> resetSymbols = new(StringComparer.Ordinal);
    private GrainState<FillIngestState> stored = new(new FillIngestState());
    private FillIngestState working = new();
    private ConfiguredAccount? account;
    private IGrainTimer? timer;
    private IFillMetricsGrain? metrics;
    private SiloAddress? movingTo;
    private bool loaded;
    private string? loadError;
    private long loadErrorsSinceActivation;
    private long reportSequence;
    private long? lastPollMs;
    private string? lastErrorReason;
    private string? lastSaveError;

    private string AccountId => ConfiguredAccount.AccountIdFromGrainKey(this.GetPrimaryKeyString());

    private IngestOptions Options => options.Value;

    // Resolved once: GetGrain looks the interface type up by reflection on every call (seen in the fan-out profile).
    private IFillMetricsGrain Metrics => metrics ??= GrainFactory.GetGrain<IFillMetricsGrain>(0);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        account = accounts.Find(AccountId);
        if (account is null)
        {
            IngestLog.AccountNotConfigured(logger, this.GetPrimaryKeyString());
            return;
        }

        await TryLoadAsync(cancellationToken);
        if (Options.Enabled)
        {
            // Spread first polls over one interval so many accounts do not hit the exchange in the same instant.
            var due = TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * Math.Min(Options.PollInterval.TotalMilliseconds, 1000));
            timer = this.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions(due, Options.PollInterval) { KeepAlive = true });
        }
    }

    public Task EnsurePollingAsync() => Task.CompletedTask;

    public async Task PollNowAsync()
    {
        if (account is null || !Options.Enabled)
        {
            return;
        }

        using var deadline = new CancellationTokenSource(Options.TickDeadline);
        await TickAsync(deadline.Token);
    }

    public async Task ResetCursorAsync(string? symbol, DateTimeOffset? from)
    {
        if (account is null)
        {
            throw new InvalidOperationException($"account {AccountId} is not configured on this cluster");
        }

        if (!loaded)
        {
            throw new InvalidOperationException(
                $"account {AccountId}: stored state is unreadable ({loadError}); delete the stored record (scripts/fill_cursor.sh delete) to start over");
        }

        var targets = symbol is null ? account.Symbols : account.Symbols.Where(s => s == symbol.ToUpperInvariant()).ToList();
        if (targets.Count == 0)
        {
            throw new ArgumentException($"account {AccountId} has no symbol {symbol}", nameof(symbol));
        }

        var fromMs = (from ?? time.GetUtcNow() - Options.BootstrapLookback).ToUnixTimeMilliseconds();
        foreach (var target in targets)
        {
            // The fetch position goes back; the counted high-water mark stays, so re-read trades are not counted again.
            var cursor = working.Symbols.GetValueOrDefault(target) ?? SymbolCursor.Fresh(fromMs);
            working.Symbols[target] = cursor with { LastTradeId = null, LastTsMs = 0, BootstrapFromMs = fromMs, ResumeInclusive = false };
            resetSymbols.Add(target);
            IngestLog.CursorReset(logger, AccountId, target, fromMs);
        }

        using var deadline = new CancellationTokenSource(Options.TickDeadline);
        await SaveAsync(deadline.Token);
        await ReportAsync();
    }

    public Task<AccountHealth> GetHealthAsync()
    {
        var symbols = (account?.Symbols ?? working.Symbols.Keys.ToList())
            .Select(symbol =>
            {
                var cursor = working.Symbols.GetValueOrDefault(symbol);
                var runtime = symbolRuntime.GetValueOrDefault(symbol);
                return new SymbolHealth(
                    symbol,
                    cursor?.LastTradeId,
                    cursor?.LastTsMs ?? 0,
                    cursor?.CountedHighWaterId ?? -1,
                    cursor?.LastTradeId is null,
                    runtime.PollMs,
                    runtime.Error,
                    working.Quarantine.Count(row => row.Symbol == symbol));
            })
            .ToList();
        return Task.FromResult(new AccountHealth(
            AccountId,
            account?.Source ?? "none",
            IsPolling,
            lastPollMs,
            lastErrorReason,
            loadError,
            working.LastSaveMs,
            working.Polls,
            symbols,
            working.Quarantine.ToList(),
            new Dictionary<string, decimal>(working.FeesByAsset),
            new Dictionary<string, decimal>(working.RebatesByAsset),
            working.Fills.Values.Sum(totals => totals.Count),
            lastSaveError));
    }

    public Task<AccountSnapshot> GetSnapshotAsync() => Task.FromResult(Snapshot());

    private bool IsPolling => account is not null && Options.Enabled && loaded;

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        // Every await below runs under this deadline: a hung tick would stop the Orleans timer forever.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Options.TickDeadline);
        if (!loaded)
        {
            await TryLoadAsync(deadline.Token);
            if (!loaded)
            {
                return;
            }
        }

        await PollAsync(deadline.Token);
        MoveToOwnerIfElsewhere();
    }

    /// <summary>
    /// Moves only when the stored state is exactly where this activation stands: the activation on the owner continues
    /// from it, so nothing is counted twice or lost by the move. Not while saves fail (the stored cursor is older than
    /// memory: the trades would be read again), nor while the monotonic rule keeps a stored cursor ahead of the position
    /// this activation reads from (a cursor moved by hand: the owner would start from the moved cursor and skip what lies
    /// between). Migration waits until this activation is idle; the owner goes along as placement hint, so the director
    /// does not pick anew from a different view of the cluster.
    /// </summary>
    private void MoveToOwnerIfElsewhere()
    {
        if (lastSaveError is not null
            || !ContinuesFromStoredState()
            || placement.OwnerOf(this.GetGrainId()) is not { } owner
            || owner.Equals(GrainContext.Address.SiloAddress))
        {
            movingTo = null;
            return;
        }

        if (!owner.Equals(movingTo))
        {
            movingTo = owner;
            IngestLog.AccountMoving(logger, AccountId, owner.ToString());
        }

        RequestContext.Set(IPlacementDirector.PlacementHintKey, owner);
        try
        {
            this.MigrateOnIdle();
        }
        finally
        {
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        }
    }

    // After a clean save or an adopted state, every cursor in memory is the stored one (SymbolCursor is a value record).
    private bool ContinuesFromStoredState()
    {
        var saved = stored.State?.Symbols;
        return saved is not null && working.Symbols.All(pair => saved.TryGetValue(pair.Key, out var cursor) && cursor == pair.Value);
    }

    private async Task TryLoadAsync(CancellationToken cancellationToken)
    {
        var fresh = new GrainState<FillIngestState>(new FillIngestState());
        try
        {
            await storage.ReadStateAsync(StateName, this.GetGrainId(), fresh).WaitAsync(Options.TickDeadline, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            loadErrorsSinceActivation++;
            loadError = $"{ex.GetType().Name}: {ex.Message}";
            IngestLog.CursorLoadError(logger, AccountId, loadError);
            await ReportLoadErrorAsync();
            return;
        }

        stored = fresh;
        working = Clone(fresh.State ?? new FillIngestState());
        if (fresh.RecordExists)
        {
            Increment(working.CursorLoads, "ok");
            IngestLog.CursorLoaded(logger, AccountId, working.Symbols.Count, working.SaveCount);
        }
        else
        {
            IngestLog.CursorNotFound(logger, AccountId, Options.BootstrapLookback.TotalDays);
        }

        // Load failures of this activation become part of the state, so the counter never goes back.
        if (loadErrorsSinceActivation > 0)
        {
            Increment(working.CursorLoads, "error", loadErrorsSinceActivation);
            Increment(working.Errors, "cursor", loadErrorsSinceActivation);
        }

        loaded = true;
        loadError = null;
    }

    private async Task PollAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        lastErrorReason = null;
        foreach (var symbol in account!.Symbols)
        {
            var cursor = working.Symbols.GetValueOrDefault(symbol) ?? SymbolCursor.Fresh(now - (long)Options.BootstrapLookback.TotalMilliseconds);
            var result = await FetchAsync(symbol, cursor, cancellationToken);
            var outcome = FillLedger.Apply(working, symbol, cursor, result, Options.QuarantineLimit, now);

            foreach (var row in result.Rejected)
            {
                IngestLog.ParseError(logger, AccountId, symbol, row.TradeId?.ToString(CultureInfo.InvariantCulture) ?? "unknown", row.Reason);
            }

            if (outcome.Quarantined > 0)
            {
                Increment(working.Errors, "parse", outcome.Quarantined);
            }

            string? symbolError = null;
            if (result.Error is { } reason)
            {
                symbolError = ReasonLabel(reason);
                Increment(working.Errors, symbolError);
                IngestLog.IngestError(logger, AccountId, symbol, symbolError, result.ErrorDetail ?? string.Empty);
            }
            else if (outcome.Quarantined > 0)
            {
                symbolError = "parse";
            }

            lastErrorReason = symbolError ?? lastErrorReason;
            symbolRuntime[symbol] = (now, symbolError);
            if (outcome.Counted > 0 || outcome.Duplicates > 0)
            {
                IngestLog.FillsIngested(logger, AccountId, symbol, outcome.Counted, outcome.Duplicates, result.Next.LastTradeId);
            }

            if (cancellationToken.IsCancellationRequested)
            {
                break;
            }
        }

        working.Polls++;
        working.ReconcileRuns++;
        working.UpdatedAtMs = now;
        lastPollMs = now;

        // Save on every poll, quiet or failed: cursor age stays fresh and progress is never held only in memory for long.
        using var saveDeadline = new CancellationTokenSource(Options.TickDeadline);
        await SaveAsync(saveDeadline.Token);
        await ReportAsync();
    }

    private async Task<FetchResult> FetchAsync(string symbol, SymbolCursor cursor, CancellationToken cancellationToken)
    {
        var position = new FetchPosition(cursor.LastTradeId, cursor.LastTsMs, cursor.BootstrapFromMs, cursor.ResumeInclusive);
        if (cancellationToken.IsCancellationRequested)
        {
            return Failed(position, IngestErrorReason.Http, "tick deadline reached before this symbol");
        }

        try
        {
            return await fetcher.FetchAsync(account!.Credentials, new FetchRequest(symbol, position, binance.Value.MaxPagesPerPoll), cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Failed(position, IngestErrorReason.Http, "tick deadline reached while reading the exchange");
        }
        catch (Exception ex)
        {
            // The fetcher reports exchange faults itself; anything else is a bug we count rather than crash on.
            return Failed(position, IngestErrorReason.Unknown, $"{ex.GetType().Name}: {ex.Message}");
        }
    }

    private static FetchResult Failed(FetchPosition position, IngestErrorReason reason, string detail) =>
        new([], [], position, reason, detail, 0);

    private async Task SaveAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var candidate = Clone(working);
        var rejected = ApplyMonotonicRule(candidate, stored.State ?? new FillIngestState());
        Increment(candidate.CursorSaves, "rejected_non_monotonic", rejected);
        Increment(candidate.CursorSaves, "ok");
        candidate.SaveCount++;
        candidate.LastSaveMs = now;
        candidate.UpdatedAtMs = now;

        var attempt = new GrainState<FillIngestState>(candidate) { ETag = stored.ETag, RecordExists = stored.RecordExists };
        try
        {
            await storage.WriteStateAsync(StateName, this.GetGrainId(), attempt).WaitAsync(Options.TickDeadline, cancellationToken);
        }
        catch (InconsistentStateException)
        {
            await AdoptStoredStateAsync(cancellationToken);
            return;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || cancellationToken.IsCancellationRequested)
        {
            // Nothing counted in memory is lost: the next poll saves it all.
            lastSaveError = $"{ex.GetType().Name}: {ex.Message}";
            Increment(working.CursorSaves, "error");
            Increment(working.CursorSaves, "rejected_non_monotonic", rejected);
            IngestLog.CursorSaveError(logger, AccountId, lastSaveError);
            return;
        }

        stored = attempt;
        resetSymbols.Clear();
        lastSaveError = null;

        // Memory keeps its own fetch positions (they may be behind a rejected stored cursor); everything else is as saved.
        var positions = working.Symbols;
        working = Clone(candidate);
        foreach (var (symbol, cursor) in positions)
        {
            var saved = working.Symbols.GetValueOrDefault(symbol) ?? cursor;
            working.Symbols[symbol] = saved with
            {
                LastTradeId = cursor.LastTradeId,
                LastTsMs = cursor.LastTsMs,
                BootstrapFromMs = cursor.BootstrapFromMs,
                ResumeInclusive = cursor.ResumeInclusive,
            };
        }
    }

    /// <summary>
    /// Runbook monotonic rule per symbol: a cursor key (last_trade_id, last_ts_ms) below the stored one is not written.
    /// The stored position is kept, the counted high-water mark takes the higher of both. Operator resets are exempt.
    /// </summary>
    private int ApplyMonotonicRule(FillIngestState candidate, FillIngestState current)
    {
        var rejected = 0;
        foreach (var (symbol, existing) in current.Symbols)
        {
            if (resetSymbols.Contains(symbol) || !candidate.Symbols.TryGetValue(symbol, out var proposed) || !existing.IsAhead(proposed))
            {
                continue;
            }

            rejected++;
            IngestLog.CursorRejected(logger, AccountId, symbol, FormatKey(existing.Key), FormatKey(proposed.Key));
            var highWater = Math.Max(existing.CountedHighWaterId, proposed.CountedHighWaterId);
            var sides = existing.CountedHighWaterId == proposed.CountedHighWaterId
                ? existing.CountedSidesAtHighWater | proposed.CountedSidesAtHighWater
                : existing.CountedHighWaterId > proposed.CountedHighWaterId ? existing.CountedSidesAtHighWater : proposed.CountedSidesAtHighWater;
            candidate.Symbols[symbol] = existing with { CountedHighWaterId = highWater, CountedSidesAtHighWater = sides };
            symbolRuntime[symbol] = (symbolRuntime.GetValueOrDefault(symbol).PollMs, "cursor");
        }

        return rejected;
    }

    /// <summary>
    /// The stored state changed under this activation (a second activation during failover, or an edit behind our
    /// back). Never retry blindly: re-read it, adopt its counters and high-water marks (they already count what we
    /// read), apply the monotonic rule against it, and let the next poll continue from there.
    /// </summary>
    private async Task AdoptStoredStateAsync(CancellationToken cancellationToken)
    {
        IngestLog.SaveConflict(logger, AccountId);
        var fresh = new GrainState<FillIngestState>(new FillIngestState());
        try
        {
            await storage.ReadStateAsync(StateName, this.GetGrainId(), fresh).WaitAsync(Options.TickDeadline, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || cancellationToken.IsCancellationRequested)
        {
            lastSaveError = $"conflict, then re-read failed: {ex.GetType().Name}: {ex.Message}";
            Increment(working.CursorSaves, "error");
            IngestLog.CursorSaveError(logger, AccountId, lastSaveError);
            return;
        }

        // Counters and counted high-water marks come from the stored state as a pair: never mix in our own marks, whose
        // counts were not saved (that would skip, i.e. lose, the fills this tick counted).
        var lastSaved = stored.State ?? new FillIngestState();
        var adopted = Clone(fresh.State ?? new FillIngestState());
        var rejected = 0;
        foreach (var (symbol, ours) in working.Symbols)
        {
            if (!adopted.Symbols.TryGetValue(symbol, out var existing) || !existing.IsAhead(ours) || IsCoveredByItsCounts(existing))
            {
                // Another activation got here first (failover), or is behind us: continue from its position; the
                // high-water mark keeps anything re-read from counting twice.
                continue;
            }

            // The stored position is ahead of what its own counts cover: moved by hand. It stays as it is (monotonic
            // rule); we keep reading from the last position we saved, which the adopted counts do cover.
            rejected++;
            IngestLog.CursorRejected(logger, AccountId, symbol, FormatKey(existing.Key), FormatKey(ours.Key));
            symbolRuntime[symbol] = (symbolRuntime.GetValueOrDefault(symbol).PollMs, "cursor");
            var resume = lastSaved.Symbols.GetValueOrDefault(symbol) ?? PositionAtHighWater(existing);
            adopted.Symbols[symbol] = existing with
            {
                LastTradeId = resume.LastTradeId,
                LastTsMs = resume.LastTsMs,
                BootstrapFromMs = resume.BootstrapFromMs,
                ResumeInclusive = resume.ResumeInclusive,
            };
        }

        Increment(adopted.CursorSaves, "rejected_non_monotonic", rejected);
        stored = fresh;
        working = adopted;
        resetSymbols.Clear();
    }

    // A cursor written by this service never reads past its counted high-water mark, except over quarantined rows.
    private static bool IsCoveredByItsCounts(SymbolCursor cursor) =>
        cursor.LastTradeId is not { } last || last <= cursor.CountedHighWaterId;

    private static SymbolCursor PositionAtHighWater(SymbolCursor cursor) => cursor.CountedHighWaterId >= 0
        ? cursor with { LastTradeId = cursor.CountedHighWaterId, LastTsMs = 0, BootstrapFromMs = null, ResumeInclusive = true }
        : cursor with { LastTradeId = null, LastTsMs = 0, ResumeInclusive = false };

    private AccountSnapshot Snapshot() => new(
        AccountId,
        account?.Source ?? "reconcile",
        (working.SaveCount * ReportsPerSave) + reportSequence,
        new Dictionary<string, FillTotals>(working.Fills, StringComparer.Ordinal),
        working.Polls,
        new Dictionary<string, long>(working.Errors, StringComparer.Ordinal),
        new Dictionary<string, long>(working.CursorLoads, StringComparer.Ordinal),
        new Dictionary<string, long>(working.CursorSaves, StringComparer.Ordinal),
        working.LastSaveMs,
        working.ReconcileRuns,
        IsPolling);

    private async Task ReportAsync()
    {
        reportSequence = Math.Min(reportSequence + 1, ReportsPerSave - 1);
        try
        {
            await Metrics.ReportAsync(Snapshot()).WaitAsync(Options.TickDeadline);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            // The next poll reports again with absolute values; nothing accumulates here.
            lastErrorReason ??= "unknown";
        }
    }

    private async Task ReportLoadErrorAsync()
    {
        try
        {
            await Metrics.ReportLoadErrorAsync(AccountId, account?.Source ?? "reconcile").WaitAsync(Options.TickDeadline);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            // Visible in /healthz regardless.
        }
    }

    private static string ReasonLabel(IngestErrorReason reason) => reason switch
    {
        IngestErrorReason.Http => "http",
        IngestErrorReason.Parse => "parse",
        IngestErrorReason.Cursor => "cursor",
        _ => "unknown",
    };

    private static string FormatKey((long TradeId, long TsMs) key) =>
        string.Create(CultureInfo.InvariantCulture, $"({key.TradeId}, {key.TsMs})");

    private static void Increment(Dictionary<string, long> counters, string key, long by = 1)
    {
        if (by > 0)
        {
            counters[key] = counters.GetValueOrDefault(key) + by;
        }
    }

    private static FillIngestState Clone(FillIngestState source) => new()
    {
        Symbols = new Dictionary<string, SymbolCursor>(source.Symbols, StringComparer.Ordinal),
        Fills = new Dictionary<string, FillTotals>(source.Fills, StringComparer.Ordinal),
        Polls = source.Polls,
        Errors = new Dictionary<string, long>(source.Errors, StringComparer.Ordinal),
        CursorLoads = new Dictionary<string, long>(source.CursorLoads, StringComparer.Ordinal),
        CursorSaves = new Dictionary<string, long>(source.CursorSaves, StringComparer.Ordinal),
        UpdatedAtMs = source.UpdatedAtMs,
        LastSaveMs = source.LastSaveMs,
        Quarantine = [.. source.Quarantine],
        QuarantinedTotal = source.QuarantinedTotal,
        SaveCount = source.SaveCount,
        ReconcileRuns = source.ReconcileRuns,
        FeesByAsset = new Dictionary<string, decimal>(source.FeesByAsset, StringComparer.Ordinal),
        RebatesByAsset = new Dictionary<string, decimal>(source.RebatesByAsset, StringComparer.Ordinal),
    };
}
