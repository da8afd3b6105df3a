//! hasteCRM: the SQL rendered from Prisma's own schemas, compared with the migrations Prisma
//! generated from them (the text, apart from the differences `docs/prisma-differences.md`
//! explains).

use std::path::Path;

use haste_testkit::corpus;

use haste_prisma::{SourceFile, ir::Database};

fn lowered(path: &Path) -> Database {
    let files = haste_prisma::read(path).unwrap();
    let ast = haste_prisma::parse(&files).unwrap_or_else(|errors| panic!("{}", render(&files, &errors)));
    haste_prisma::lower(&ast, "public").unwrap_or_else(|errors| panic!("{}", render(&files, &errors)))
}

fn render(files: &[SourceFile], errors: &[haste_prisma::Diagnostic]) -> String {
    errors.iter().map(|e| e.render(files)).collect::<Vec<_>>().join("\n")
}

#[test]
fn the_three_corpus_steps_render_as_prisma_wrote_them() {
    let Some(corpus) = corpus() else { return };
    let schemas: Vec<Database> = ["v1", "v2", "v3"]
        .iter()
        .map(|v| lowered(&corpus.join(format!("schemas/{v}.schema.prisma"))))
        .collect();
    let steps = [
        (Database::default(), &schemas[0], "20250612024039_initial"),
        (schemas[0].clone(), &schemas[1], "20250613172146_add_gmail_webhook_support"),
        (schemas[1].clone(), &schemas[2], "20250614030005_add_pipeline_automation_models"),
    ];
    for (from, to, migration) in steps {
        let expected =
            std::fs::read_to_string(corpus.join("migrations").join(migration).join("migration.sql")).unwrap();
        let rendered = haste_prisma::migration(&from, to, to).to_sql();
        if let Ok(out) = std::env::var("HASTE_PRISMA_OUT") {
            std::fs::write(Path::new(&out).join(format!("{migration}.sql")), &rendered).unwrap();
        }
        assert_eq!(rendered, expected, "{migration}");
    }
}
