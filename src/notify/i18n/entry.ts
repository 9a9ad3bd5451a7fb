/**
 * One catalogue value: a string with `{name}` placeholders, or, when it
 * depends on a number, its plural forms chosen by `Intl.PluralRules` from the
 * `count` placeholder (`other` is always there). The same form as the pages'
 * catalogues (docs/pages.md "Words").
 */
export type Entry = string | ({ readonly [category in Intl.LDMLPluralRule]?: string } & { readonly other: string });
