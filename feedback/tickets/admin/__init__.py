"""The ticket back-office: the queue and the ticket page (tickets, its actions), the labels
they show (badges), the forms of the ticket's actions (forms), /admin/queue/ (queue) and the
records staff read but never type (records)."""
