-- Coordination metrics (mcp_memory.services.coordination): when a task went to done, and how often it
-- was reworked. Kept by triggers, so every write path (update, claim, import) keeps them right:
--   completed_at  the time (updated_at) of the last change to 'done'; NULL while the task is not done
--   reopen_count  changes from 'done' back to open, claimed or in_progress
--   claim_count   times the task was given to an agent (claimed, or assigned to another agent);
--                 more than one means it was re-claimed
ALTER TABLE tasks ADD COLUMN completed_at TEXT;
ALTER TABLE tasks ADD COLUMN reopen_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN claim_count INTEGER NOT NULL DEFAULT 0;
UPDATE tasks SET completed_at = updated_at WHERE status = 'done';
UPDATE tasks SET claim_count = 1 WHERE assignee IS NOT NULL;

CREATE TRIGGER tasks_track_insert AFTER INSERT ON tasks
WHEN (NEW.assignee IS NOT NULL AND NEW.claim_count = 0) OR (NEW.status = 'done' AND NEW.completed_at IS NULL)
BEGIN
    UPDATE tasks SET
        claim_count = CASE WHEN NEW.assignee IS NOT NULL AND NEW.claim_count = 0 THEN 1 ELSE claim_count END,
        completed_at = CASE WHEN NEW.status = 'done' THEN coalesce(completed_at, NEW.updated_at) END
    WHERE task_id = NEW.task_id;
END;

CREATE TRIGGER tasks_track_update AFTER UPDATE OF status, assignee ON tasks
BEGIN
    UPDATE tasks SET
        completed_at = CASE
            WHEN NEW.status <> 'done' THEN NULL
            WHEN OLD.status <> 'done' THEN NEW.updated_at
            ELSE OLD.completed_at
        END,
        reopen_count = OLD.reopen_count
            + (OLD.status = 'done' AND NEW.status IN ('open', 'claimed', 'in_progress')),
        claim_count = OLD.claim_count + (NEW.assignee IS NOT NULL AND NEW.assignee IS NOT OLD.assignee)
    WHERE task_id = NEW.task_id;
END;
