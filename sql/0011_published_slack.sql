-- Each task's total slack as the last schedule left it, beside its published dates: the Today page and the client page
-- judge every plan's health from stored rows instead of loading and scheduling each plan on every view. NULL until
-- the plan's next write or recompute fills it.
ALTER TABLE plan_tasks ADD COLUMN published_slack_minutes integer;
