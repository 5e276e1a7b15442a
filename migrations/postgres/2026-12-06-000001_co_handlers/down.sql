DELETE FROM alert_recipients WHERE alert_id IN (SELECT id FROM alerts WHERE deadline = 'reply');
DELETE FROM alerts WHERE deadline = 'reply';
ALTER TABLE alerts DROP CONSTRAINT alerts_deadline_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_deadline_check
    CHECK (deadline IN ('accept', 'contact', 'resolve'));
DROP TABLE ticket_co_handlers;
