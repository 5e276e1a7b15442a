DROP TABLE attachments;
DROP FUNCTION attachments_are_the_record();
