DROP TRIGGER attachments_no_delete;
DROP TRIGGER attachments_no_update;
DROP TABLE attachments;
