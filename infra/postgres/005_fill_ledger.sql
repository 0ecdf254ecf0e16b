-- The fill ledger: one row per fill under the exchange's key, and per account the totals the fill
-- counters come from (Grinder.Silo/Ledger/PostgresFillLedger.cs writes and reads these tables).
--
-- Binance trade ids are a sequence per symbol, and a self-trade is reported as two rows with one id,
-- a BUY and a SELL: the key is therefore (account, symbol, trade_id, side). Amounts are numeric, so
-- they are kept exactly as Binance sent them (never binary floating point). Text columns that take
-- part in ordering use the "C" collation: paging order is then byte order on every server, whatever
-- locale the database was created with, and the same as the SQLite ledger's.
CREATE TABLE grinder_fills (
    account          text    NOT NULL,
    symbol           text    COLLATE "C" NOT NULL,
    trade_id         bigint  NOT NULL,
    side             text    COLLATE "C" NOT NULL CHECK (side IN ('BUY', 'SELL')),
    order_id         bigint  NOT NULL,
    price            numeric NOT NULL,
    qty              numeric NOT NULL,
    quote_qty        numeric NOT NULL,
    realized_pnl     numeric NOT NULL,
    commission       numeric NOT NULL,
    commission_asset text    NOT NULL,
    time_ms          bigint  NOT NULL,
    buyer            boolean NOT NULL,
    maker            boolean NOT NULL,
    position_side    text    NOT NULL,
    source           text    NOT NULL,
    first_seen_ms    bigint  NOT NULL,
    first_seen_by    text    NOT NULL CHECK (first_seen_by IN ('poll', 'rescan', 'stream')),
    pre_ledger       boolean NOT NULL,
    CONSTRAINT grinder_fills_key PRIMARY KEY (account, symbol, trade_id, side),
    CONSTRAINT grinder_fills_buyer CHECK (buyer = (side = 'BUY'))
);

-- GET /fills pages an account's rows in (time, symbol, trade id, side) order with a keyset.
CREATE INDEX grinder_fills_page ON grinder_fills (account, time_ms, symbol, trade_id, side);

COMMENT ON COLUMN grinder_fills.first_seen_by IS
    'Feeder that inserted the row: poll, rescan (the primary path had missed it) or stream.';
COMMENT ON COLUMN grinder_fills.pre_ledger IS
    'true: a state of the version before the ledger had counted this fill already; it is in the ledger but not counted again.';

-- What the ledger has counted per account and counter bucket. Raised in the same statement as the
-- insert, by exactly the rows that statement inserted and did not mark pre_ledger, plus the counters
-- a pre-ledger state carried in once (grinder_fill_legacy_imports).
CREATE TABLE grinder_fill_totals (
    account   text    NOT NULL,
    source    text    NOT NULL,
    side      text    NOT NULL CHECK (side IN ('buy', 'sell')),
    liquidity text    NOT NULL CHECK (liquidity IN ('maker', 'taker')),
    fills     bigint  NOT NULL,
    notional  numeric NOT NULL,
    fees      numeric NOT NULL,
    rebates   numeric NOT NULL,
    recovered bigint  NOT NULL,
    CONSTRAINT grinder_fill_totals_key PRIMARY KEY (account, source, side, liquidity)
);

COMMENT ON COLUMN grinder_fill_totals.notional IS 'Sum of qty * price of the counted fills.';
COMMENT ON COLUMN grinder_fill_totals.fees IS 'Sum of the positive commissions.';
COMMENT ON COLUMN grinder_fill_totals.rebates IS 'Sum of the negative commissions, as a positive amount.';
COMMENT ON COLUMN grinder_fill_totals.recovered IS 'Counted fills first seen by the trailing re-scan.';

-- Fees and rebates per commission asset (they cannot be added across assets).
CREATE TABLE grinder_fill_asset_totals (
    account text    NOT NULL,
    asset   text    NOT NULL,
    fees    numeric NOT NULL,
    rebates numeric NOT NULL,
    CONSTRAINT grinder_fill_asset_totals_key PRIMARY KEY (account, asset)
);

-- Per symbol, the counted high-water mark of a state written before the ledger existed: a row with a
-- lower id, or that id with a side counted there, had been counted by that version and is inserted
-- with pre_ledger = true and not counted again.
CREATE TABLE grinder_fill_legacy_marks (
    account       text    NOT NULL,
    symbol        text    NOT NULL,
    high_water_id bigint  NOT NULL,
    buy_counted   boolean NOT NULL,
    sell_counted  boolean NOT NULL,
    CONSTRAINT grinder_fill_legacy_marks_key PRIMARY KEY (account, symbol)
);

-- One row per account whose pre-ledger counters were carried in: the import happens once.
CREATE TABLE grinder_fill_legacy_imports (
    account     text        NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT grinder_fill_legacy_imports_key PRIMARY KEY (account)
);
