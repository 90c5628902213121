-- Issue 14: a task lives in a namespace, read and written under the same policy as rooms and memories.
-- A task of a room takes the room's namespace; a task without a room goes to shared-tasks.
ALTER TABLE tasks ADD COLUMN namespace TEXT NOT NULL DEFAULT 'shared-tasks';
UPDATE tasks SET namespace = (SELECT rooms.namespace FROM rooms WHERE rooms.room_id = tasks.room_id)
WHERE room_id IS NOT NULL AND EXISTS (SELECT 1 FROM rooms WHERE rooms.room_id = tasks.room_id);
CREATE INDEX tasks_by_namespace ON tasks (namespace, priority DESC, created_at, task_id);
