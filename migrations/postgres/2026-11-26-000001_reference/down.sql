DROP TABLE sla_policies;
DROP TABLE calendar_years;
DROP TABLE calendar_days;
DROP TABLE categories;
DROP TABLE enterprise_liaisons;
ALTER TABLE enterprises DROP CONSTRAINT enterprises_paired_leader_id_fkey;
DROP TABLE users;
DROP TABLE enterprises;
DROP TABLE departments;
