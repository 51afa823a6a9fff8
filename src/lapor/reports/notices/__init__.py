"""What a report's events tell the people concerned: who hears of which event (`recipients`), in what
words (`compose`), written into the notifications outbox (`services.notify_for_event`).

The outbox (lapor.notifications) delivers; it knows nothing of reports.
"""
