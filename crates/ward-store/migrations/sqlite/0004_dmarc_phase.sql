-- The DMARC phase the checks judged for each asset (assess, deploy, enforce, maintain),
-- NULL when DMARC was not judged. Scans stored before this column have NULL too: they
-- show no phase until the domain is scanned again.
ALTER TABLE scan_assets ADD COLUMN dmarc_phase TEXT;
