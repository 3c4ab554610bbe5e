; Ruby tags for the repository map (uet.context.tags).

; Definitions -------------------------------------------------------------

(method
  name: (_) @name.definition.method) @definition.method

(singleton_method
  name: (_) @name.definition.method) @definition.method

(class
  name: [
    (constant) @name.definition.class
    (scope_resolution name: (constant) @name.definition.class)
  ]) @definition.class

(singleton_class
  value: (constant) @name.definition.class) @definition.class

(module
  name: [
    (constant) @name.definition.module
    (scope_resolution name: (constant) @name.definition.module)
  ]) @definition.module

(assignment
  left: (constant) @name.definition.constant) @definition.constant

; alias new_name old_name
(alias
  name: (identifier) @name.definition.method) @definition.method

; References --------------------------------------------------------------

; A method call with a receiver (greeter.greet) or arguments (format_greeting(x)); a bare
; name without either reads like a local variable and is not captured.
(call
  method: (identifier) @name.reference.call)

(superclass
  (constant) @name.reference.class)

(superclass
  (scope_resolution name: (constant) @name.reference.class))

; Greetings::Greeter, Base, DEFAULT_GREETING: every use of a constant (class, module or value).
(scope_resolution
  name: (constant) @name.reference.class)

(scope_resolution
  scope: (constant) @name.reference.module)

(constant) @name.reference.constant
