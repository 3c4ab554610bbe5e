; JavaScript tags for the repository map (uet.context.tags): what TypeScript's grammar
; spells differently; the rest is in ecmascript-tags.scm.

(field_definition
  property: [(property_identifier) (private_property_identifier)] @name.definition.field) @definition.field

(class_heritage
  (identifier) @name.reference.class)

(class_heritage
  (member_expression
    property: (property_identifier) @name.reference.class))
