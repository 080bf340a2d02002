"""候选名单: the push dates, the lists built on them for each branch and the service section, their items and
funnel, the reminders and notices, and the higher bureau's lists."""
