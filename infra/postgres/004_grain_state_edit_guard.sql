-- A grain state changed by hand (an operator's UPDATE of payload, e.g. a cursor moved with jsonb_set) must not
-- keep its version: the grain still holds that version as its ETag and would overwrite the edit unseen. With the
-- version bumped, the grain's next write conflicts, it re-reads the state and applies its monotonic cursor rule
-- (runbook: FillCursorNonMonotonicRejected). The provider's own writes always change the version, so they pass.
CREATE FUNCTION grinder_grain_state_bump_on_edit()
RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
    IF NEW.version = OLD.version AND NEW.payload IS DISTINCT FROM OLD.payload THEN
        NEW.version := OLD.version + 1;
    END IF;
    RETURN NEW;
END
$fn$;

CREATE TRIGGER grinder_grain_state_edit_guard
    BEFORE UPDATE ON grinder_grain_state
    FOR EACH ROW
    EXECUTE FUNCTION grinder_grain_state_bump_on_edit();
