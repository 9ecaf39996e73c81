/**
 * Undo records say which commands are re-derivations (`rebuild`), reversals (`reverse`: run only for an applied
 * step) and restores (`restore`: guarded, run for any step). Records written before kept all three in `rebuild`;
 * sort them by the module that wrote them: the `undo:` of command / shell and kernel_package's removals are
 * reversals, initramfs's copy-backs are restores, vfio_bind's runtime releases (the ones writing driver_override)
 * are reversals. Only records without a `reverse` key are touched, so running it twice changes nothing.
 */
const pick = (where: string) =>
  `(SELECT json_group_array(value) FROM json_each(undo_records.record, '$.rebuild') WHERE ${where})`;
const old = (modules: string) =>
  `json_type(record, '$.reverse') IS NULL AND step_id IN (SELECT id FROM steps WHERE module IN (${modules}))`;

export const sql = `
UPDATE undo_records SET record = json_set(record, '$.reverse', json(json_extract(record, '$.rebuild')), '$.rebuild', json('[]'))
  WHERE ${old(`'command', 'shell', 'kernel_package'`)};
UPDATE undo_records SET record = json_set(record, '$.restore', json(json_extract(record, '$.rebuild')), '$.rebuild', json('[]'), '$.reverse', json('[]'))
  WHERE ${old(`'initramfs'`)};
UPDATE undo_records SET record = json_set(record,
    '$.reverse', ${pick(`value LIKE '%driver_override%'`)},
    '$.rebuild', ${pick(`value NOT LIKE '%driver_override%'`)})
  WHERE ${old(`'vfio_bind'`)};
`;
