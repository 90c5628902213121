-- Coordination metrics (mcp_memory.services.coordination): when a task went to done, and how often it
-- was reworked. Kept by a trigger, so every write path (update, claim, import) keeps them right:
--   completed_at  the time (updated_at) of the last change to 'done'; NULL while the task is not done
--   reopen_count  changes from 'done' back to open, claimed or in_progress
--   claim_count   times the task was given to an agent (claimed, or assigned to another agent);
--                 more than one means it was re-claimed
ALTER TABLE tasks
    ADD COLUMN completed_at timestamptz,
    ADD COLUMN reopen_count integer NOT NULL DEFAULT 0,
    ADD COLUMN claim_count integer NOT NULL DEFAULT 0;
UPDATE tasks SET completed_at = updated_at WHERE status = 'done';
UPDATE tasks SET claim_count = 1 WHERE assignee IS NOT NULL;

CREATE FUNCTION tasks_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.assignee IS NOT NULL AND NEW.claim_count = 0 THEN
            NEW.claim_count := 1;
        END IF;
        IF NEW.status = 'done' AND NEW.completed_at IS NULL THEN
            NEW.completed_at := NEW.updated_at;
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.status <> 'done' THEN
        NEW.completed_at := NULL;
    ELSIF OLD.status <> 'done' THEN
        NEW.completed_at := NEW.updated_at;
    END IF;
    IF OLD.status = 'done' AND NEW.status IN ('open', 'claimed', 'in_progress') THEN
        NEW.reopen_count := OLD.reopen_count + 1;
    END IF;
    IF NEW.assignee IS NOT NULL AND NEW.assignee IS DISTINCT FROM OLD.assignee THEN
        NEW.claim_count := OLD.claim_count + 1;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER tasks_track BEFORE INSERT OR UPDATE OF status, assignee ON tasks
    FOR EACH ROW EXECUTE FUNCTION tasks_track();
